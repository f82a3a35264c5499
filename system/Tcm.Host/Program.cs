using System.CommandLine;
using Tcm.Gateway.Relay;
using Tcm.Host.Commands;

// why: before anything uses the shared ArrayPool, which reads its size once (RelayBufferPool says why the gateway's differs).
if (args is ["gateway", ..])
{
    RelayBufferPool.ConfigureProcess();
}

var root = new RootCommand("tcm: the Time Critical Management servers and agent. Each subcommand runs one part; --help on any of them says more.")
{
    NotificationServerCommand.Create(),
    GatewayCommand.Create(),
    TaskServerCommand.Create(),
    AgentCommand.Create(),
};

return await root.Parse(args).InvokeAsync();
