using System.Net.Http.Headers;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;

namespace Tcm.Functional.Tests.ByHand;

/// <summary>
/// The README's "Run the servers and an agent by hand", step by step, with the real <c>tcm</c> in processes of its own on a
/// fresh data folder: the commands are read from README.md (<see cref="ReadmeByHand"/>) and run in its order, so a documented
/// command that stops working, or a README edit that breaks one, fails this. The one liberty taken: a free port instead of
/// 4443 (so it can run beside anything), given with <c>--port</c> and <c>--server</c>, and the README's curl calls sent there
/// with HttpClient, with the README's method, path, headers and body.
/// </summary>
public sealed partial class ReadmeByHandTests
{
    private static readonly TimeSpan ProcessDeadline = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task The_readmes_by_hand_commands_run_a_server_and_an_agent_that_runs_a_pushed_task()
    {
        using var folder = new TemporaryFolder("readme");
        Directory.CreateDirectory(folder.Path);
        using var whole = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        var ct = whole.Token;
        var readme = ReadmeByHand.Parse(await File.ReadAllTextAsync(ReadmeByHand.ReadmePath(), ct));
        var variables = new Dictionary<string, string>(StringComparer.Ordinal);
        string InFolder(string relative) => Path.Combine(folder.Path, relative);

        // 1. A Notification Server.
        var nsArguments = readme.TakeTcm("1. the Notification Server", "ns");
        Assert.DoesNotContain("--port", nsArguments);
        await using var ns = TcmProcess.Start(folder.Path, [.. nsArguments, "--port", "0"]);
        var port = await ns.WaitForListeningPortAsync(ProcessDeadline);
        var serverText = $"https://localhost:{port}";
        var server = new Uri(serverText);
        using var ca = X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(Path.Combine(InFolder(Option(nsArguments, "--data")), "ca.pem"), ct));
        // The README's curl calls carry their own key header: this client adds none.
        using var http = TcmProcess.ServerHttp(serverText, ca);

        // 2. The admin key from its file, TCM communication on, an install package.
        var key = readme.Take("2. the admin key", "set");
        variables[key[0]] = (await File.ReadAllTextAsync(InFolder(key[1]), ct)).Trim();
        using var admin = TcmProcess.AdminHttp(serverText, variables[key[0]], ca);
        using (var settings = await SendAsync(http, readme.Take("2. TCM communication on", "curl"), server, variables, ct))
        {
            Assert.True(settings.IsSuccessStatusCode, $"the README's settings call answered {(int)settings.StatusCode}: {await settings.Content.ReadAsStringAsync(ct)}");
        }

        var packageArguments = readme.TakeTcm("2. the install package", "ns", "package");
        var (packageExit, packageOutput) = await TcmProcess.RunAsync(folder.Path, ProcessDeadline, [.. packageArguments, "--server", serverText]);
        Assert.True(packageExit == 0, $"tcm {string.Join(' ', packageArguments)} exited {packageExit}:\n{packageOutput}");
        var packagePath = InFolder(Option(packageArguments, "--out"));
        Assert.True(File.Exists(packagePath), $"tcm ns package wrote no {packagePath}");
        if (!OperatingSystem.IsWindows())
        {
            // The package holds a registration token: its owner alone may read it.
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(packagePath));
        }

        // 3. A real agent from that package.
        var agentArguments = readme.TakeTcm("3. the agent", "agent", "run");
        Assert.Equal(Path.GetFullPath(packagePath), Path.GetFullPath(InFolder(Option(agentArguments, "--package"))));
        await using var agent = TcmProcess.Start(folder.Path, [.. agentArguments]);

        // 4. Its Network Status, and the server's view of it.
        var statusArguments = readme.TakeTcm("4. the agent's Network Status", "agent", "status");
        var status = await Eventually.WaitAsync(
            async () => await TcmProcess.RunAsync(folder.Path, ProcessDeadline, [.. statusArguments]),
            run => run.ExitCode == 0 && run.Output.Contains("Persistent", StringComparison.Ordinal),
            ProcessDeadline,
            "tcm agent status to show a persistent connection",
            ct,
            run => $"exit {run.ExitCode}: {run.Output}\nagent output:\n{agent.Output}");
        Assert.Contains("Notification Server:", status.Output, StringComparison.Ordinal);
        Assert.Contains($"localhost:{port}", status.Output, StringComparison.Ordinal);

        using (var agents = await SendAsync(http, readme.Take("4. the server's view", "curl"), server, variables, ct))
        {
            var body = await agents.Content.ReadAsStringAsync(ct);
            Assert.True(agents.IsSuccessStatusCode, $"the README's agents call answered {(int)agents.StatusCode}: {body}");
            using var page = JsonDocument.Parse(body);
            var only = Assert.Single(page.RootElement.GetProperty("items").EnumerateArray().ToList());
            Assert.True(only.GetProperty("connected").GetBoolean(), $"the server does not see the agent connected: {body}");
        }

        if (!OperatingSystem.IsWindows())
        {
            // The agent's state holds its private key.
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(InFolder(Option(agentArguments, "--data")), "agent-state.json")));
        }

        // 5. Push a task to every agent and watch its status.
        var pushWords = readme.Take("5. the push", "curl");
        using var push = await SendAsync(http, pushWords, server, variables, ct);
        Assert.True(push.IsSuccessStatusCode, $"the README's push answered {(int)push.StatusCode}: {await push.Content.ReadAsStringAsync(ct)}");
        var created = (await push.Content.ReadFromJsonAsync(ProtocolJsonContext.Default.ActionCreated, ct))!;
        Assert.Equal(1, created.TargetCount);
        var action = await Eventually.WaitAsync(
            async c => (await admin.GetFromJsonAsync($"/tcm/admin/actions/{created.ActionId}", ProtocolJsonContext.Default.ActionStatus, c))!,
            a => a.Targets.All(t => t.State == TaskState.Succeeded),
            ProcessDeadline,
            "the pushed task to succeed on the agent",
            ct,
            a => string.Join(", ", a.Targets.Select(t => $"{t.ComputerName}: {t.State}")));
        var target = Assert.Single(action.Targets);
        using (var pushed = JsonDocument.Parse(pushWords[pushWords.ToList().IndexOf("-d") + 1]))
        {
            Assert.Contains(pushed.RootElement.GetProperty("parameters").GetProperty("text").GetString()!, target.Output, StringComparison.Ordinal);
        }

        Assert.Equal("persistent", target.DeliveredVia);
        Assert.True(readme.Count == 0, $"the README's by-hand block has commands this test did not run: {string.Join("; ", readme)}");
    }

    private static async Task<HttpResponseMessage> SendAsync(
        HttpClient http, IReadOnlyList<string> curl, Uri server, IReadOnlyDictionary<string, string> variables, CancellationToken ct)
    {
        using var request = ReadmeByHand.Curl(curl, server, variables);
        return await http.SendAsync(request, ct);
    }

    /// <summary>The value after <paramref name="name"/> in a command's arguments.</summary>
    private static string Option(IReadOnlyList<string> arguments, string name)
    {
        var at = arguments.ToList().IndexOf(name);
        Assert.True(at >= 0 && at + 1 < arguments.Count, $"tcm {string.Join(' ', arguments)}: no {name} value");
        return arguments[at + 1];
    }

    [Fact]
    public void The_by_hand_block_is_read_as_a_shell_reads_it()
    {
        var commands = ReadmeByHand.Parse($$"""
            # Title
            {{ReadmeByHand.Section}}

            ```bash
            # a comment, then a blank line

            KEY=$(cat data/ns/admin.key)
            curl -sk -X PUT https://localhost:4443/tcm/admin/settings -H "X-Tcm-Admin-Key: $KEY" \
                 -H 'Content-Type: application/json' -d '{"tcmEnabled":true}'
            dotnet run --project system/Tcm.Host -- agent status --data data/agent
            ```

            ```bash
            not read
            ```
            """);

        commands.Select(c => c.Line).Should().Equal(7, 8, 10);
        commands.Take("key", "set").Should().Equal("KEY", "data/ns/admin.key");
        var curl = commands.Take("settings", "curl");
        curl.Should().Equal("-sk", "-X", "PUT", "https://localhost:4443/tcm/admin/settings", "-H", "X-Tcm-Admin-Key: $KEY",
            "-H", "Content-Type: application/json", "-d", """{"tcmEnabled":true}""");
        using var request = ReadmeByHand.Curl(curl, new Uri("https://localhost:5555"), new Dictionary<string, string> { ["KEY"] = "tcm_k" });
        request.Method.Should().Be(HttpMethod.Put);
        request.RequestUri.Should().Be(new Uri("https://localhost:5555/tcm/admin/settings"));
        request.Headers.GetValues(ProtocolConstants.AdminKeyHeader).Should().Equal("tcm_k");
        request.Content!.Headers.ContentType!.MediaType.Should().Be("application/json");
        FluentActions.Invoking(() => commands.TakeTcm("status", "agent", "run")).Should().Throw<InvalidOperationException>()
            .WithMessage("status: expected the README's next command to start with 'dotnet run --project system/Tcm.Host -- agent run', found README.md:10: *");
        commands.Should().BeEmpty();
    }

    private static StringContent Json(string body) => new(body, new MediaTypeHeaderValue("application/json"));
}
