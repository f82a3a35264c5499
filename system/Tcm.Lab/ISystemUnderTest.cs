using Tcm.Lab.Admin;
using Tcm.Lab.Network;
using Tcm.Lab.Packages;
using Tcm.Protocol;

namespace Tcm.Lab;

/// <summary>
/// The system under test: the real servers, started in this process on loopback ports with a fresh data folder
/// (a lab), or a system that already runs elsewhere (external). Either way the simulator or a feature sees it through its admin API,
/// an install package, and the endpoints it registers in the run's <see cref="NetworkTopology"/>.
/// </summary>
public interface ISystemUnderTest : IAsyncDisposable
{
    /// <summary>The Notification Server's admin API.</summary>
    AdminClient Admin { get; }

    /// <summary>The install package agents start from (server URL, registration token, CA, CEM settings).</summary>
    InstallPackage Package { get; }

    /// <summary>One line for reports: what runs where.</summary>
    string Description { get; }

    /// <summary>Whether pushed tasks go through Task Servers (the Client Task Agent's connection) rather than the NS channel.</summary>
    bool HasTaskServers { get; }

    /// <summary>The CEM settings agents get (the gateway's address), or null when the system has no gateway.</summary>
    CemSettings? Cem { get; }

    /// <summary>The proxy settings that lead agents through the system's proxy, or null when it has none.</summary>
    ProxySettings? Proxy { get; }

    /// <summary>Stops (gracefully), kills (connections cut at once) or starts a server by its scenario name (<c>ns</c>, <c>ts1</c>, <c>gateway</c>).</summary>
    Task ControlAsync(ServerOperation operation, string server, CancellationToken ct);

    /// <summary>
    /// Makes package <paramref name="id"/> (<paramref name="sizeBytes"/> bytes) available on the system's package server and returns
    /// it with one codebase per distinct kind and site in <paramref name="codebases"/> (a site's UNC and HTTP codebases on the
    /// site's own host, see <see cref="LabPackageServer"/>). Throws <see cref="NotSupportedException"/> when the system has none.
    /// </summary>
    PackageReference PublishPackage(string id, long sizeBytes, IReadOnlyList<CodebaseSpec> codebases);
}
