using Microsoft.Extensions.Hosting;
using Tcm.Gateway.Relay;

namespace Tcm.Gateway.Diagnostics;

/// <summary>
/// Ends every tunnel when the gateway stops. No timer: idle tunnels are closed by YARP's activity timeout
/// (<see cref="GatewayOptions.TunnelIdleTimeout"/>) and the status page's rates are computed when read
/// (<see cref="LastSecondRate"/>), because a gateway-wide periodic timer makes the runtime walk every tunnel's timer each tick.
/// </summary>
internal sealed class GatewayShutdown(RelayServices services) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => services.Stopping.CancelAsync();
}
