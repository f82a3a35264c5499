using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Tcm.Gateway.Certificates;
using Tcm.Gateway.Diagnostics;
using Tcm.Gateway.KeepAlive;

namespace Tcm.Gateway.Relay;

/// <summary>What every relayed exchange needs, in one object.</summary>
internal sealed class RelayServices(
    IOptions<GatewayOptions> options,
    BackendRegistry backends,
    AgentCertificateValidator certificates,
    RelayForwarder forwarder,
    GatewayMetrics metrics,
    TimeProvider time,
    TunnelWatch watch,
    ILogger<RelayServices> logger)
{
    public GatewayOptions Options { get; } = options.Value;
    public string GatewayName { get; } = options.Value.Name;
    public BackendRegistry Backends { get; } = backends;
    public AgentCertificateValidator Certificates { get; } = certificates;
    public RelayForwarder Forwarder { get; } = forwarder;
    public GatewayMetrics Metrics { get; } = metrics;
    public TimeProvider Time { get; } = time;

    /// <summary>The one pass that ends tunnels whose agents went silent.</summary>
    public TunnelWatch Watch { get; } = watch;
    public ILogger Logger { get; } = logger;

    /// <summary>Cancelled when the gateway stops: ends every tunnel.</summary>
    public CancellationTokenSource Stopping { get; } = new();
}
