using System.CommandLine;
using Tcm.Gateway;
using Tcm.Gateway.Relay;
using Tcm.Host.Commands;

// why: before anything uses the shared ArrayPool, which reads its size once (RelayBufferPool says why the gateway's differs), and
// before the thread pool grows (GatewayThreadPool says why a gateway process runs fewer workers).
if (args is ["gateway", ..])
{
    RelayBufferPool.ConfigureProcess();
    GatewayThreadPool.ConfigureProcess();
}

var root = new RootCommand("tcm: the Time Critical Management servers and agent. Each subcommand runs one part; --help on any of them says more.")
{
    NotificationServerCommand.Create(),
    GatewayCommand.Create(),
    TaskServerCommand.Create(),
    AgentCommand.Create(),
};

return await root.Parse(args).InvokeAsync();
