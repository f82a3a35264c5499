using System.CommandLine;
using Tcm.Host.Commands;

var root = new RootCommand("tcm: the Time Critical Management servers and agent. Each subcommand runs one part; --help on any of them says more.")
{
    NotificationServerCommand.Create(),
    GatewayCommand.Create(),
    TaskServerCommand.Create(),
    AgentCommand.Create(),
};

return await root.Parse(args).InvokeAsync();
