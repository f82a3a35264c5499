using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Tcm.Hosting;

/// <summary>The addresses of a running server: the bound port (known after start when port 0 was asked) and the public name.</summary>
public sealed class ServerAddresses
{
    private readonly IServer _server;
    private readonly TcmServerOptions _options;
    private readonly string _serverKind;
    private int _port;

    /// <summary>The addresses of <paramref name="server"/>, configured by <paramref name="options"/>.</summary>
    /// <param name="server">The server, whose bound addresses are known after start.</param>
    /// <param name="options">The listen address, port and public name.</param>
    /// <param name="serverKind">What the server is, for the message when it is asked too early, e.g. <c>Task Server</c>.</param>
    public ServerAddresses(IServer server, TcmServerOptions options, string serverKind)
    {
        _server = server;
        _options = options;
        _serverKind = serverKind;
    }

    /// <summary>The (first) HTTPS port Kestrel bound.</summary>
    public int Port
    {
        get
        {
            if (_port != 0)
            {
                return _port;
            }

            var address = _server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
            if (address is not null && Uri.TryCreate(address.Replace("[::]", "localhost", StringComparison.Ordinal), UriKind.Absolute, out var uri) && uri.Port > 0)
            {
                return _port = uri.Port;
            }

            return _options.Port != 0
                ? _options.Port
                : throw new InvalidOperationException($"The {_serverKind} has not started yet: its address is known after app.StartAsync().");
        }
    }

    /// <summary>The local URL to reach the server, e.g. <c>https://127.0.0.1:4443</c>.</summary>
    public string BaseUrl
    {
        get
        {
            var host = "localhost";
            if (IPAddress.TryParse(_options.ListenAddress, out var ip) && !ip.Equals(IPAddress.Any) && !ip.Equals(IPAddress.IPv6Any))
            {
                host = ip.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{ip}]" : ip.ToString();
            }

            return $"https://{host}:{Port}";
        }
    }

    /// <summary>The host name agents use to reach the server (its certificate's name).</summary>
    public string PublicHostName => _options.PublicHostName;

    /// <summary><c>PublicHostName:port</c>, the address published in policies.</summary>
    public string PublicHostPort => $"{_options.PublicHostName}:{Port}";

    /// <summary><c>https://PublicHostName:port</c>, the URL agents are given.</summary>
    public string PublicBaseUrl => $"https://{PublicHostPort}";
}
