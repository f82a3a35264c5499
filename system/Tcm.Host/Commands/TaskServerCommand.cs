using System.CommandLine;
using Microsoft.Extensions.Options;
using Tcm.TaskServer;

namespace Tcm.Host.Commands;

/// <summary><c>tcm ts</c>: runs a Task Server.</summary>
internal static class TaskServerCommand
{
    public static Command Create()
    {
        var ns = new Option<string?>("--ns") { Description = "Base URL of the Notification Server, e.g. https://ns.example:4443. Required." };
        var nsCa = new Option<string?>("--ns-ca") { Description = "PEM file of the Notification Server's CA (the 'caCertificatePem' of an install package, or <ns data>/ca.pfx exported). Needed on first run." };
        var token = new Option<string?>("--token") { Description = "Registration token from POST /tcm/admin/site-servers {\"name\":\"ts1\",\"kind\":\"task-server\"}. Needed on first run only." };
        var data = new Option<string?>("--data") { Description = "Data folder: identity from registration, SQLite store. Default: data/ts" };
        var port = new Option<int?>("--port") { Description = "HTTPS port for Client Task Agents. Default: 4726" };
        var secondPort = new Option<int?>("--second-port") { Description = "A second HTTPS port with the same endpoints. Default: none" };
        var listen = new Option<string?>("--listen") { Description = "Address to listen on. Default: 127.0.0.1" };
        var publicHost = new Option<string?>("--public-host") { Description = "Host name agents use to reach this server (certificate SAN, address in policies). Default: localhost" };
        var maxAgents = new Option<int?>("--max-agents") { Description = "Most agents accepted; past it agents are refused with task-server-full and fail over. Default: 5000" };
        var site = new Option<string?>("--site") { Description = "The site this Task Server serves (ordered lists per site). Default: none" };

        var command = new Command("ts", "Run a Task Server: registers with its Notification Server on first run (token + CSR), holds the Client Task Agents' persistent connections, delivers tasks, forwards results (store and forward). Settings also come from appsettings.json, environment variables (TaskServer__Port=...) and --TaskServer:Port=... style arguments.")
        {
            ns, nsCa, token, data, port, secondPort, listen, publicHost, maxAgents, site,
        };
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction(async (parse, ct) =>
        {
            var builder = WebApplication.CreateBuilder(parse.UnmatchedTokens.ToArray());
            var section = builder.Configuration.GetSection(TaskServerOptions.SectionName);
            Set(section, nameof(TaskServerOptions.NotificationServerUrl), parse.GetValue(ns));
            Set(section, nameof(TaskServerOptions.NotificationServerCaFile), parse.GetValue(nsCa));
            Set(section, nameof(TaskServerOptions.RegistrationToken), parse.GetValue(token));
            Set(section, nameof(TaskServerOptions.DataDirectory), parse.GetValue(data));
            Set(section, nameof(TaskServerOptions.Port), parse.GetValue(port)?.ToString());
            Set(section, nameof(TaskServerOptions.SecondPort), parse.GetValue(secondPort)?.ToString());
            Set(section, nameof(TaskServerOptions.ListenAddress), parse.GetValue(listen));
            Set(section, nameof(TaskServerOptions.PublicHostName), parse.GetValue(publicHost));
            Set(section, nameof(TaskServerOptions.MaxAgents), parse.GetValue(maxAgents)?.ToString());
            Set(section, nameof(TaskServerOptions.Site), parse.GetValue(site));

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

            builder.AddTaskServer();
            var app = builder.Build();
            try
            {
                app.MapTaskServer();
                await app.StartAsync(ct);
            }
            catch (OptionsValidationException ex)
            {
                await Console.Error.WriteLineAsync($"tcm ts: invalid settings:\n  {string.Join("\n  ", ex.Failures)}");
                return 2;
            }
            catch (InvalidOperationException ex)
            {
                await Console.Error.WriteLineAsync($"tcm ts: {ex.Message}");
                return 2;
            }
            catch (HttpRequestException ex)
            {
                await Console.Error.WriteLineAsync($"tcm ts: cannot reach the Notification Server to register: {ex.Message}");
                return 3;
            }

            var info = app.Services.GetRequiredService<TaskServerInfo>();
            var options = app.Services.GetRequiredService<IOptions<TaskServerOptions>>().Value;
            Console.WriteLine($"Task Server '{info.Name}' ({info.Id}) listening on {info.BaseUrl}, published as {info.Address}");
            Console.WriteLine($"  data folder:          {Path.GetFullPath(options.DataDirectory)}");
            Console.WriteLine($"  Notification Server:  {options.NotificationServerUrl}");
            Console.WriteLine($"  maximum agents:       {options.MaxAgents}");
            Console.WriteLine("Press Ctrl+C to stop.");

            await app.WaitForShutdownAsync(ct);
            return 0;
        });
        return command;
    }

    private static void Set(IConfigurationSection section, string key, string? value)
    {
        if (value is not null)
        {
            section[key] = value;
        }
    }
}
