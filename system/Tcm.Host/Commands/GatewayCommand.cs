using System.CommandLine;
using Tcm.Gateway;

namespace Tcm.Host.Commands;

/// <summary><c>tcm gateway</c>: runs a CEM Internet Gateway in front of one or more Notification Servers and Task Servers.</summary>
internal static class GatewayCommand
{
    public static Command Create()
    {
        var server = new ServerCommand("gateway",
            data: "Data folder: the gateway's certificates (identity/), approvals, admin key. Default: data/gateway",
            port: "TLS port for agents (HTTP/1.1 and HTTP/2). Default: 8443",
            publicHost: "Host name agents use to reach the gateway (goes into its certificate at registration). Default: localhost");
        var config = new Option<FileInfo?>("--config") { Description = "JSON settings file with a \"Gateway\" section (backends, CA files, timeouts, HoldUnknownCertificates); see docs/protocol.md" };
        server.Setting(new Option<string?>("--name") { Description = "Gateway name (refusals, X-Tcm-Via, site-server registration). Default: the machine name" }, nameof(GatewayOptions.Name));
        server.Setting(
            new Option<string?>("--admin-key") { Description = "Key of the status page and approval API. Default: generated on first run into <data>/admin.key" },
            nameof(GatewayOptions.AdminApiKey));
        server.Setting(
            new Option<bool?>("--hold-unknown-certificates") { Description = "Hold certificates no configured CA issued until an administrator approves them (instead of refusing them)" },
            nameof(GatewayOptions.HoldUnknownCertificates));
        var notificationServers = new Option<string[]>("--ns") { Description = "A Notification Server backend: name=host:port[=registration-token]; repeatable (several NSs at once)" };
        var taskServers = new Option<string[]>("--ts") { Description = "A Task Server backend: name=host:port[=ns-name whose certificate to present]; repeatable" };

        var command = server.Create(
            "Run a CEM Internet Gateway: agents on the internet reach the configured Notification and Task Servers through it, and nothing else. Settings also come from --config, appsettings.json, environment variables (Gateway__Port=...) and --Gateway:Port=... style arguments.",
            config, notificationServers, taskServers);
        command.SetAction(async (parse, ct) =>
        {
            if (parse.GetValue(config) is { Exists: false } missing)
            {
                await Console.Error.WriteLineAsync($"tcm gateway: the settings file '{missing.FullName}' does not exist.");
                return 2;
            }

            var builder = server.CreateBuilder(parse, GatewayOptions.SectionName, b =>
            {
                if (parse.GetValue(config) is { } file)
                {
                    b.Configuration.AddJsonFile(file.FullName, optional: false);
                }
            });
            var section = builder.Configuration.GetSection(GatewayOptions.SectionName);
            var index = section.GetSection(nameof(GatewayOptions.Backends)).GetChildren().Count();
            foreach (var (values, kind) in new[] { (parse.GetValue(notificationServers), BackendKind.NotificationServer), (parse.GetValue(taskServers), BackendKind.TaskServer) })
            {
                foreach (var value in values ?? [])
                {
                    var parts = value.Split('=', 3);
                    if (parts.Length < 2)
                    {
                        await Console.Error.WriteLineAsync($"tcm gateway: '{value}' is not name=host:port[=...]");
                        return 2;
                    }

                    var backend = section.GetSection($"{nameof(GatewayOptions.Backends)}:{index++}");
                    backend[nameof(GatewayBackendOptions.Name)] = parts[0];
                    backend[nameof(GatewayBackendOptions.Address)] = parts[1];
                    backend[nameof(GatewayBackendOptions.Kind)] = kind.ToString();
                    if (parts.Length == 3)
                    {
                        backend[kind == BackendKind.NotificationServer ? nameof(GatewayBackendOptions.RegistrationToken) : nameof(GatewayBackendOptions.Identity)] = parts[2];
                    }
                }
            }

            return await server.RunAsync<GatewayOptions, GatewayInfo>(builder, b => b.AddGateway(), a => a.MapGateway(), Announce, ct);
        });
        return command;
    }

    private static Task Announce(GatewayInfo info, GatewayOptions options, CancellationToken ct)
    {
        Console.WriteLine($"CEM gateway '{info.Name}' listening on {info.BaseUrl}");
        foreach (var (backendName, address, kind) in info.Backends)
        {
            Console.WriteLine($"  {kind,-18} {backendName,-10} agents use {info.RelayBase(address)}");
        }

        Console.WriteLine($"  data folder:  {Path.GetFullPath(options.DataDirectory)}");
        Console.WriteLine($"  status page:  {info.BaseUrl}/gateway/status/page (admin key: {Path.GetFullPath(Path.Combine(options.DataDirectory, "admin.key"))} unless --admin-key was given)");
        return Task.CompletedTask;
    }
}
