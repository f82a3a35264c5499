using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;

namespace Tcm.NotificationServer;

/// <summary>The addresses of the running server: the bound port (known after start when port 0 was asked) and the public name.</summary>
internal sealed class ServerAddresses(IServer server, IOptions<NotificationServerOptions> options)
{
    private int _port;

    /// <summary>The HTTPS port Kestrel bound.</summary>
    public int Port
    {
        get
        {
            if (_port != 0)
            {
                return _port;
            }

            var address = server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
            if (address is not null && Uri.TryCreate(address, UriKind.Absolute, out var uri) && uri.Port > 0)
            {
                return _port = uri.Port;
            }

            if (options.Value.Port != 0)
            {
                return options.Value.Port;
            }

            throw new InvalidOperationException("The Notification Server has not started yet: its address is known after app.StartAsync().");
        }
    }

    /// <summary>The local URL to reach the server, e.g. <c>https://127.0.0.1:4443</c>.</summary>
    public string BaseUrl
    {
        get
        {
            var listen = options.Value.ListenAddress;
            var host = "localhost";
            if (IPAddress.TryParse(listen, out var ip) && !ip.Equals(IPAddress.Any) && !ip.Equals(IPAddress.IPv6Any))
            {
                host = ip.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{ip}]" : ip.ToString();
            }

            return $"https://{host}:{Port}";
        }
    }

    /// <summary><c>PublicHostName:port</c>, as policies list it when a profile names no server hosts.</summary>
    public string PublicHostPort => $"{options.Value.PublicHostName}:{Port}";

    /// <summary>The URL agents are given in install packages.</summary>
    public string PublicBaseUrl => $"https://{PublicHostPort}";
}
