using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Tcm.Protocol;

namespace Tcm.Hosting.Channels;

/// <summary>
/// Puts a <see cref="HeardStream"/> under every channel's WebSocket, over HTTP/1.1 (upgrade) and HTTP/2 (extended CONNECT): the
/// WebSocket answers an agent's pings itself, so only the bytes under it tell the server that a quiet agent is still there.
/// It wraps the request's upgrade features before the WebSocket middleware takes them, so the accept stays ASP.NET Core's own.
/// </summary>
internal sealed class ChannelHearing : IHttpUpgradeFeature, IHttpExtendedConnectFeature
{
    private readonly IHttpUpgradeFeature? _upgrade;
    private readonly IHttpExtendedConnectFeature? _connect;
    private readonly TimeProvider _time;

    private ChannelHearing(IHttpUpgradeFeature? upgrade, IHttpExtendedConnectFeature? connect, TimeProvider time)
    {
        _upgrade = upgrade;
        _connect = connect;
        _time = time;
    }

    /// <summary>The stream under the accepted WebSocket; null until it is accepted.</summary>
    public HeardStream? Stream { get; private set; }

    bool IHttpUpgradeFeature.IsUpgradableRequest => _upgrade?.IsUpgradableRequest ?? false;

    bool IHttpExtendedConnectFeature.IsExtendedConnect => _connect?.IsExtendedConnect ?? false;

    string? IHttpExtendedConnectFeature.Protocol => _connect?.Protocol;

    /// <summary>Wraps the upgrade features of requests to the channel path; must run before <c>UseWebSockets</c>.</summary>
    public static void Use(IApplicationBuilder app)
    {
        var time = app.ApplicationServices.GetRequiredService<TimeProvider>();
        app.Use((context, next) =>
        {
            if (context.Request.Path.Equals(TcmPaths.Channel, StringComparison.OrdinalIgnoreCase))
            {
                var features = context.Features;
                var upgrade = features.Get<IHttpUpgradeFeature>();
                var connect = features.Get<IHttpExtendedConnectFeature>();
                if (upgrade is not null || connect is not null)
                {
                    var hearing = new ChannelHearing(upgrade, connect, time);
                    features.Set(hearing);
                    if (upgrade is not null)
                    {
                        features.Set<IHttpUpgradeFeature>(hearing);
                    }

                    if (connect is not null)
                    {
                        features.Set<IHttpExtendedConnectFeature>(hearing);
                    }
                }
            }

            return next(context);
        });
    }

    async Task<Stream> IHttpUpgradeFeature.UpgradeAsync() => Stream = new HeardStream(await _upgrade!.UpgradeAsync().ConfigureAwait(false), _time);

    async ValueTask<Stream> IHttpExtendedConnectFeature.AcceptAsync() => Stream = new HeardStream(await _connect!.AcceptAsync().ConfigureAwait(false), _time);
}
