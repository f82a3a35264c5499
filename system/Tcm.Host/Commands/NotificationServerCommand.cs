using System.CommandLine;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Tcm.NotificationServer;
using Tcm.Protocol;

namespace Tcm.Host.Commands;

/// <summary><c>tcm ns</c>: runs a Notification Server.</summary>
internal static class NotificationServerCommand
{
    public static Command Create()
    {
        var server = new ServerCommand("ns",
            data: "Data folder: SQLite database, development CA, admin key, install package. Default: data/ns",
            port: "HTTPS port for agents, the channel and the admin API. Default: 4443",
            publicHost: "Host name agents use to reach this server (goes into the server certificate and the default profile). Default: localhost");
        var name = new Option<string?>("--name") { Description = "Server name shown to agents. Default: the machine name" };
        var adminKey = new Option<string?>("--admin-key") { Description = "Admin API key. Default: generated on first run into <data>/admin.key" };
        var tcm = new Option<bool?>("--tcm-on-first-run") { Description = "Turn the 'TCM communication' setting on when the database is created (it is off by default, as in the product)" };

        var command = server.Create(
            "Run a Notification Server: agent registration and HTTP endpoints, the persistent channel, the admin API. Settings also come from appsettings.json, environment variables (NotificationServer__Port=...) and --NotificationServer:Port=... style arguments.",
            name, adminKey, tcm);
        command.SetAction(async (parse, ct) =>
        {
            var builder = server.CreateBuilder(parse, NotificationServerOptions.SectionName);
            var section = builder.Configuration.GetSection(NotificationServerOptions.SectionName);
            ServerCommand.Set(section, nameof(NotificationServerOptions.ServerName), parse.GetValue(name));
            ServerCommand.Set(section, nameof(NotificationServerOptions.AdminApiKey), parse.GetValue(adminKey));
            ServerCommand.Set(section, nameof(NotificationServerOptions.TcmEnabledAtFirstRun), parse.GetValue(tcm)?.ToString());

            var (app, exitCode) = await server.StartAsync(builder, b => b.AddNotificationServer(), a => a.MapNotificationServer(), ct);
            if (app is null)
            {
                return exitCode;
            }

            var info = app.Services.GetRequiredService<NotificationServerInfo>();
            var options = app.Services.GetRequiredService<IOptions<NotificationServerOptions>>().Value;
            var packagePath = Path.Combine(options.DataDirectory, "agent-package.json");
            if (!File.Exists(packagePath))
            {
                var package = await info.CreateInstallPackageAsync(ct: ct);
                await File.WriteAllTextAsync(packagePath, JsonSerializer.Serialize(package, ProtocolJsonContext.Default.InstallPackage), ct);
            }

            // Tools that talk to this server (the simulator's --target, scripts) trust it through this file.
            var caPath = Path.Combine(options.DataDirectory, "ca.pem");
            await File.WriteAllTextAsync(caPath, info.CaCertificatePem, ct);

            Console.WriteLine($"Notification Server '{options.ServerName}' listening on {info.BaseUrl}");
            Console.WriteLine($"  data folder:     {Path.GetFullPath(options.DataDirectory)}");
            Console.WriteLine($"  admin key file:  {Path.GetFullPath(Path.Combine(options.DataDirectory, "admin.key"))} (unless --admin-key was given)");
            Console.WriteLine($"  install package: {Path.GetFullPath(packagePath)} (Default profile)");
            Console.WriteLine($"  CA certificate:  {Path.GetFullPath(caPath)}");
            return await ServerCommand.RunAsync(app, ct);
        });
        return command;
    }
}
