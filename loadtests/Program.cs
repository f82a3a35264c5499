using Tcm.LoadTests.Cli;

LoadProcessRuntime.ApplyForPushTests(args);
LoadProcessRuntime.ApplyForRelay(args);
return await LoadTestCli.RunAsync(args).ConfigureAwait(false);
