using System.CommandLine;
using System.Text.Json;
using Tcm.Hosting.Data;
using Tcm.NotificationServer;
using Tcm.Protocol;

namespace Tcm.Host.Commands;

/// <summary><c>tcm ns</c>: runs a Notification Server.</summary>
internal static class NotificationServerCommand
{
    public static Command Create()
    {
        var server = new ServerCommand("ns",
            data: "Data folder: SQLite database (unless --store), development CA, admin key, install package. Default: data/ns",
            port: "HTTPS port for agents, the channel and the admin API. Default: 4443",
            publicHost: "Host name agents use to reach this server (goes into the server certificate and the default profile). Default: localhost");
        server.Setting(new Option<string?>("--name") { Description = "Server name shown to agents. Default: the machine name" }, nameof(NotificationServerOptions.ServerName));
        server.Setting(new Option<string?>("--admin-key") { Description = "Admin API key. Default: generated on first run into <data>/admin.key" }, nameof(NotificationServerOptions.AdminApiKey));
        server.Setting(
            new Option<string?>("--store")
            {
                Description = "Where the management data lives: a PostgreSQL connection string (\"Host=db;Database=tcm;Username=tcm;Password=...\"), which several NS nodes can share. Default: the SQLite file tcm.db in the data folder",
            },
            nameof(NotificationServerOptions.Store));
        server.Setting(
            new Option<bool?>("--tcm-on-first-run") { Description = "Turn the 'TCM communication' setting on when the database is created (it is off by default, as in the product)" },
            nameof(NotificationServerOptions.TcmEnabledAtFirstRun));

        var command = server.Create(
            "Run a Notification Server: agent registration and HTTP endpoints, the persistent channel, the admin API. Settings also come from appsettings.json, environment variables (NotificationServer__Port=...) and --NotificationServer:Port=... style arguments.");
        command.SetAction((parse, ct) => server.RunAsync<NotificationServerOptions, NotificationServerInfo>(
            server.CreateBuilder(parse, NotificationServerOptions.SectionName), b => b.AddNotificationServer(), a => a.MapNotificationServer(), AnnounceAsync, ct));
        command.Subcommands.Add(PackageCommand.Create());
        command.Subcommands.Add(KeysCommand.Create());
        return command;
    }

    /// <summary>Writes the install package (once) and the CA certificate into the data folder, and says where everything is.</summary>
    private static async Task AnnounceAsync(NotificationServerInfo info, NotificationServerOptions options, CancellationToken ct)
    {
        var packagePath = Path.Combine(options.DataDirectory, "agent-package.json");
        if (!File.Exists(packagePath))
        {
            var package = await info.CreateInstallPackageAsync(ct: ct);
            // why: the package holds a registration token; whoever can read it can register agents.
            DataFolder.WritePrivateFile(packagePath, JsonSerializer.Serialize(package, ProtocolJsonContext.Default.InstallPackage));
        }

        // Tools that talk to this server (the simulator's --target, scripts) trust it through this file.
        var caPath = Path.Combine(options.DataDirectory, "ca.pem");
        await File.WriteAllTextAsync(caPath, info.CaCertificatePem, ct);

        Console.WriteLine($"Notification Server '{options.ServerName}' listening on {info.BaseUrl}");
        Console.WriteLine($"  data folder:     {Path.GetFullPath(options.DataDirectory)}");
        Console.WriteLine($"  admin key file:  {Path.GetFullPath(Path.Combine(options.DataDirectory, "admin.key"))} (unless --admin-key was given)");
        Console.WriteLine($"  install package: {Path.GetFullPath(packagePath)} (Default profile)");
        Console.WriteLine($"  CA certificate:  {Path.GetFullPath(caPath)}");
    }
}
