using System.Net;
using System.Security.Cryptography.X509Certificates;

namespace Tcm.Functional.Tests.ByHand;

/// <summary><c>tcm ns keys add|list|revoke</c> against a real <c>tcm ns</c>, each in a process of its own.</summary>
public sealed partial class ReadmeByHandTests
{
    [Fact]
    public async Task Tcm_ns_keys_adds_lists_and_revokes_keys_whose_roles_the_server_enforces()
    {
        using var folder = new TemporaryFolder("keys");
        Directory.CreateDirectory(folder.Path);
        await using var ns = TcmProcess.Start(folder.Path, "ns", "--data", "data/ns", "--port", "0");
        var server = $"https://localhost:{await ns.WaitForListeningPortAsync(ProcessDeadline)}";
        Task<(int ExitCode, string Output)> Keys(params string[] arguments) =>
            TcmProcess.RunAsync(folder.Path, ProcessDeadline, ["ns", "keys", .. arguments, "--data", "data/ns", "--server", server]);

        var (added, addOutput) = await Keys("add", "night-ops", "--role", "operator");
        Assert.True(added == 0, $"keys add exited {added}:\n{addOutput}");
        var key = addOutput.Split('\n').Select(l => l.Trim()).Single(l => l.StartsWith("tcm_", StringComparison.Ordinal));

        var (badRole, badRoleOutput) = await Keys("add", "someone", "--role", "boss");
        Assert.NotEqual(0, badRole);
        Assert.Contains("boss", badRoleOutput, StringComparison.Ordinal);
        Assert.Contains("operator", badRoleOutput, StringComparison.Ordinal);
        var (again, againOutput) = await Keys("add", "NIGHT-OPS", "--role", "viewer");
        Assert.Equal(2, again);
        Assert.Contains("tcm ns keys add: the Notification Server refused the key 'NIGHT-OPS' (409 Conflict): name: a key named 'night-ops' exists already", againOutput, StringComparison.Ordinal);

        var (listed, listOutput) = await Keys("list");
        Assert.True(listed == 0, listOutput);
        Assert.Matches(@"(?m)^night-ops\s+operator\s+[0-9a-f]{12}\s+\S+ \S+ by admin\.key\s+active", listOutput);
        Assert.Matches(@"(?m)^admin\.key\s+administrator\s+admin\.key\s+\(admin\.key\)\s+active", listOutput);

        using var ca = X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(Path.Combine(folder.Path, "data/ns/ca.pem")));
        using (var nightOps = TcmProcess.AdminHttp(server, key, ca))
        {
            Assert.Equal(HttpStatusCode.Forbidden, (await nightOps.PutAsync("/tcm/admin/settings", Json("""{"tcmEnabled":true}"""))).StatusCode);
            Assert.Equal(HttpStatusCode.Created, (await nightOps.PostAsync("/tcm/admin/actions/task", Json("""{"command":"echo","targets":{"all":true}}"""))).StatusCode);

            var (revoked, revokeOutput) = await Keys("revoke", "night-ops");
            Assert.True(revoked == 0, revokeOutput);
            Assert.Equal(HttpStatusCode.Unauthorized, (await nightOps.GetAsync("/tcm/admin/fleet")).StatusCode);
        }

        var (builtIn, builtInOutput) = await Keys("revoke", "admin.key");
        Assert.Equal(2, builtIn);
        Assert.Contains("first administrator key", builtInOutput, StringComparison.Ordinal);

        var (toFile, toFileOutput) = await Keys("add", "dashboard", "--role", "viewer", "--out", "dashboard.key");
        Assert.True(toFile == 0, toFileOutput);
        Assert.DoesNotContain("tcm_", toFileOutput, StringComparison.Ordinal);
        var keyFile = Path.Combine(folder.Path, "dashboard.key");
        Assert.StartsWith("tcm_", await File.ReadAllTextAsync(keyFile), StringComparison.Ordinal);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyFile));
        }
    }
}
