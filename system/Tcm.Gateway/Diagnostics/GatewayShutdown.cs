using Microsoft.Extensions.Hosting;
using Tcm.Gateway.Relay;

namespace Tcm.Gateway.Diagnostics;

/// <summary>
/// Ends every tunnel when the gateway stops. No timer: idle tunnels are closed by YARP's activity timeout
/// (<see cref="GatewayOptions.TunnelIdleTimeout"/>) or, when the gateway answers their agents' pings, by the one housekeeping
/// pass of <see cref="KeepAlive.TunnelWatch"/>; the status page's rates are computed when read (<see cref="LastSecondRate"/>).
/// </summary>
internal sealed class GatewayShutdown(RelayServices services) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => services.Stopping.CancelAsync();
}
