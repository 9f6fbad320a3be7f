import MSSClampFuzzChecks

FuzzMain.run(CaptureChecks.check)
