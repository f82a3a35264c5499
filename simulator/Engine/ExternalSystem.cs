using System.Net;
using System.Security.Cryptography.X509Certificates;
using Tcm.Lab;
using Tcm.Lab.Admin;
using Tcm.Lab.Network;
using Tcm.Lab.Packages;
using Tcm.Protocol;

namespace Tcm.Simulator.Engine;

/// <summary>A system that already runs: the simulator only drives it through its admin API and connects agents to it.</summary>
internal sealed class ExternalSystem : ISystemUnderTest
{
    private ExternalSystem(AdminClient admin, InstallPackage package, Uri url)
    {
        Admin = admin;
        Package = package;
        Description = $"external: Notification Server {url}";
    }

    public AdminClient Admin { get; }

    public InstallPackage Package { get; }

    public string Description { get; }

    public bool HasTaskServers => false;

    public CemSettings? Cem => null;

    public ProxySettings? Proxy => null;

    public static async Task<ExternalSystem> ConnectAsync(Scenarios.ExternalSystem spec, NetworkTopology topology, CancellationToken ct)
    {
        var adminKey = spec.AdminKey ?? Environment.GetEnvironmentVariable("TCM_ADMIN_KEY")
            ?? throw new InvalidOperationException("an external system needs an admin key: set system.external.adminKey in the scenario, --admin-key, or the TCM_ADMIN_KEY environment variable");
        var ca = spec.CaFile is null ? null : X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(spec.CaFile, ct));
        var admin = new AdminClient(spec.Url, adminKey, ca);
        var profiles = await admin.GetProfilesAsync(ct);
        var profile = profiles.OrderBy(p => p.Priority).FirstOrDefault(p => p.Name == "Default") ?? profiles.OrderBy(p => p.Priority).First();
        var package = await admin.CreatePackageAsync(profile.Id, ct);
        var url = new Uri(package.ServerUrl);
        var addresses = await Dns.GetHostAddressesAsync(url.Host, ct);
        var target = addresses.FirstOrDefault(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork) ?? IPAddress.Loopback;
        topology.Register(url.Host, url.Port, EndpointClass.Corporate, new IPEndPoint(target, url.Port), "ns");
        return new ExternalSystem(admin, package, spec.Url);
    }

    public PackageReference PublishPackage(string id, long sizeBytes, IReadOnlyList<CodebaseSpec> codebases) =>
        throw new NotSupportedException("package downloads need the lab's package server; an external system has none the simulator knows");

    public Task ControlAsync(ServerOperation operation, string server, CancellationToken ct) =>
        throw new NotSupportedException($"cannot {operation.ToString().ToLowerInvariant()} '{server}': the simulator does not own the servers of an external system");

    public ValueTask DisposeAsync()
    {
        Admin.Dispose();
        return ValueTask.CompletedTask;
    }
}
