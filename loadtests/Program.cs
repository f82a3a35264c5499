using Tcm.LoadTests.Cli;

ClientArrayPool.WidenForPushTests(args);
return await LoadTestCli.RunAsync(args).ConfigureAwait(false);
