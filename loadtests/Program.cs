using Tcm.LoadTests.Cli;

LoadProcessRuntime.ApplyForPushTests(args);
return await LoadTestCli.RunAsync(args).ConfigureAwait(false);
