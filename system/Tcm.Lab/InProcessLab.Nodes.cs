using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.DependencyInjection;
using Tcm.Hosting.Data;
using Tcm.Lab.Admin;
using Tcm.Lab.Network;
using Tcm.NotificationServer;

namespace Tcm.Lab;

/// <summary>The lab's Notification Server nodes: one (<c>ns</c>), or several on one PostgreSQL database (<c>ns-1</c>, <c>ns-2</c>, ...).</summary>
public sealed partial class InProcessLab
{
    /// <summary>The CA file a node keeps in its data folder; every node of the lab has the first node's, as an operator copies it.</summary>
    private const string CaFile = "ca.pfx";

    private readonly List<HostedServer> _nodes = [];

    /// <summary>
    /// The names of <paramref name="count"/> Notification Server nodes, as scenarios and <see cref="ControlAsync"/> name them: <c>ns</c>
    /// for one, <c>ns-1</c>, <c>ns-2</c>, ... for several. Each node's host is its name under <c>.tcm.lab</c>, and its node name (the
    /// admin API's <c>AgentInfo.Node</c>) is its name too.
    /// </summary>
    public static IReadOnlyList<string> NodeNames(int count) =>
        count <= 1 ? ["ns"] : Enumerable.Range(1, count).Select(i => $"ns-{i}").ToArray();

    /// <summary>The host agents dial for node <paramref name="node"/> (<c>ns.tcm.lab</c>, <c>ns-2.tcm.lab</c>).</summary>
    public static string HostOf(string node) => node == "ns" ? NotificationServerHost : $"{node}.tcm.lab";

    /// <summary>The node a <c>host:port</c> of <see cref="HostOf"/> names (<c>ns-2.tcm.lab:4443</c> is <c>ns-2</c>), or null for another host.</summary>
    public static string? NodeOf(string? hostAndPort)
    {
        var host = hostAndPort?.Split(':')[0];
        return host is not null && host.EndsWith(".tcm.lab", StringComparison.OrdinalIgnoreCase) && host.StartsWith("ns", StringComparison.OrdinalIgnoreCase)
            ? host[..^".tcm.lab".Length].ToLowerInvariant()
            : null;
    }

    /// <summary>
    /// Why <paramref name="options"/> cannot run its nodes, or null: several nodes share one database, so they need PostgreSQL; the gateway
    /// and the Task Servers know one Notification Server address, so the lab runs several nodes without them.
    /// </summary>
    public static string? NodesProblem(LabOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.NotificationServerNodes switch
        {
            < 1 => "a lab runs at least one Notification Server node",
            1 => null,
            _ when (options.Store ?? Storage.StoreSelection.Selected) != Storage.StoreKind.PostgreSql =>
                "several Notification Server nodes share one database: they need the PostgreSQL store (the SQLite file is one node's)",
            _ when options.Gateway || options.TaskServers > 0 =>
                "the lab runs several Notification Server nodes without the gateway and Task Servers (each knows one Notification Server address)",
            _ => null,
        };
    }

    /// <summary>The nodes that run now, in order (for the admin client, which calls the first).</summary>
    private IEnumerable<HostedServer> RunningNodes => _nodes.Where(n => n.App is not null);

    /// <summary>
    /// Starts the nodes in order; the second and later get the first one's CA and admin key in their data folders before they start,
    /// so agents' and site servers' certificates and the admin key hold on every node. With several nodes the Default profile lists
    /// them all (<c>ServerHosts</c>) and the admin client calls the first node that runs.
    /// </summary>
    private async Task StartNodesAsync(LabOptions spec, CancellationToken ct)
    {
        if (NodesProblem(spec) is { } problem)
        {
            throw new ArgumentException(problem, nameof(spec));
        }

        foreach (var name in NodeNames(spec.NotificationServerNodes))
        {
            if (_nodes.Count > 0)
            {
                ShareIdentity(Path.Combine(_dataDirectory, _nodes[0].Name), Path.Combine(_dataDirectory, name));
            }

            var node = new HostedServer(name, HostOf(name), EndpointClass.Corporate, _topology, (port, c) => StartNotificationServerAsync(name, port, spec.Tcm, c));
            _nodes.Add(node);
            _servers.Add(node);
            await node.StartAsync(ct);
        }

        _ns = _nodes[0].App!.Services.GetRequiredService<NotificationServerInfo>();
        var ca = X509Certificate2.CreateFromPem(_ns.CaCertificatePem);
        Admin = _nodes.Count == 1
            ? new AdminClient(new Uri(_ns.BaseUrl), _ns.AdminApiKey, ca)
            : new AdminClient(new Uri(_ns.BaseUrl), _ns.AdminApiKey, ca, inner => new LiveNodeHandler(() => RunningNodes.FirstOrDefault()?.Port) { InnerHandler = inner });
        if (_nodes.Count > 1)
        {
            var profile = (await Admin.GetProfilesAsync(ct)).First(p => p.Name == "Default");
            await Admin.SaveProfileAsync(profile with { ServerHosts = _nodes.Select(n => $"{n.HostName}:{n.Port}").ToArray() }, ct);
        }

        Package = await _ns.CreateInstallPackageAsync(ct: ct);
    }

    private static void ShareIdentity(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in (string[])[CaFile, DataFolder.AdminKeyFile])
        {
            File.Copy(Path.Combine(from, file), Path.Combine(to, file), overwrite: true);
        }
    }

    /// <summary>Sends each admin call to the first node that runs (on 127.0.0.1, its port), so the lab's admin client outlives a stopped node.</summary>
    private sealed class LiveNodeHandler(Func<int?> port) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (port() is { } live && request.RequestUri is { } uri && uri.Port != live)
            {
                request.RequestUri = new UriBuilder(uri) { Port = live }.Uri;
            }

            return base.SendAsync(request, cancellationToken);
        }
    }
}
