using System.CommandLine;
using Tcm.TaskServer;

namespace Tcm.Host.Commands;

/// <summary><c>tcm ts</c>: runs a Task Server.</summary>
internal static class TaskServerCommand
{
    public static Command Create()
    {
        var server = new ServerCommand("ts",
            data: "Data folder: identity from registration, SQLite store. Default: data/ts",
            port: "HTTPS port for Client Task Agents. Default: 4726",
            publicHost: "Host name agents use to reach this server (certificate SAN, address in policies). Default: localhost");
        server.Setting(new Option<string?>("--ns") { Description = "Base URL of the Notification Server, e.g. https://ns.example:4443; several nodes of one NS: their URLs separated by commas. Required." }, nameof(TaskServerOptions.NotificationServerUrl));
        server.Setting(
            new Option<string?>("--ns-ca") { Description = "PEM file of the Notification Server's CA (the 'caCertificatePem' of an install package, or <ns data>/ca.pfx exported). Needed on first run." },
            nameof(TaskServerOptions.NotificationServerCaFile));
        server.Setting(
            new Option<string?>("--token") { Description = "Registration token from POST /tcm/admin/site-servers {\"name\":\"ts1\",\"kind\":\"task-server\"}. Needed on first run only." },
            nameof(TaskServerOptions.RegistrationToken));
        server.Setting(new Option<int?>("--second-port") { Description = "A second HTTPS port with the same endpoints. Default: none" }, nameof(TaskServerOptions.SecondPort));
        server.Setting(
            new Option<int?>("--max-agents") { Description = "Most agents accepted; past it agents are refused with task-server-full and fail over. Default: 5000" },
            nameof(TaskServerOptions.MaxAgents));
        server.Setting(new Option<string?>("--site") { Description = "The site this Task Server serves (ordered lists per site). Default: none" }, nameof(TaskServerOptions.Site));

        var command = server.Create(
            "Run a Task Server: registers with its Notification Server on first run (token + CSR), holds the Client Task Agents' persistent connections, delivers tasks, forwards results (store and forward). Settings also come from appsettings.json, environment variables (TaskServer__Port=...) and --TaskServer:Port=... style arguments.");
        command.SetAction(async (parse, ct) =>
        {
            var builder = server.CreateBuilder(parse, TaskServerOptions.SectionName);
            var section = builder.Configuration.GetSection(TaskServerOptions.SectionName);
            if (string.IsNullOrWhiteSpace(section[nameof(TaskServerOptions.NotificationServerUrl)]))
            {
                await Console.Error.WriteLineAsync("tcm ts: --ns <https://ns-host:4443> is required: the Task Server registers with and takes its tasks from a Notification Server.");
                return 2;
            }

            var caFile = section[nameof(TaskServerOptions.NotificationServerCaFile)];
            if (caFile is not null && !File.Exists(caFile))
            {
                await Console.Error.WriteLineAsync($"tcm ts: --ns-ca '{caFile}' does not exist; give the PEM file of the Notification Server's CA.");
                return 2;
            }

            return await server.RunAsync<TaskServerOptions, TaskServerInfo>(builder, b => b.AddTaskServer(), a => a.MapTaskServer(), Announce, ct);
        });
        return command;
    }

    private static Task Announce(TaskServerInfo info, TaskServerOptions options, CancellationToken ct)
    {
        Console.WriteLine($"Task Server '{info.Name}' ({info.Id}) listening on {info.BaseUrl}, published as {info.Address}");
        Console.WriteLine($"  data folder:          {Path.GetFullPath(options.DataDirectory)}");
        Console.WriteLine($"  Notification Server:  {options.NotificationServerUrl}");
        Console.WriteLine($"  maximum agents:       {options.MaxAgents}");
        return Task.CompletedTask;
    }
}
