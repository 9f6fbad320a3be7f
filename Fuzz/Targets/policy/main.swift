import MSSClampFuzzChecks

FuzzMain.run(PolicyChecks.check)
