import MSSClampFuzzChecks

FuzzMain.run(CoreChecks.check)
