using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;

namespace Tcm.TaskServer;

/// <summary>The addresses of the running Task Server: the bound port (known after start when port 0 was asked) and the public name.</summary>
internal sealed class TaskServerAddresses(IServer server, IOptions<TaskServerOptions> options)
{
    private int _port;

    /// <summary>The first HTTPS port Kestrel bound.</summary>
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

            return options.Value.Port != 0
                ? options.Value.Port
                : throw new InvalidOperationException("The Task Server has not started yet: its address is known after app.StartAsync().");
        }
    }

    /// <summary>The local URL, e.g. <c>https://127.0.0.1:4726</c>.</summary>
    public string BaseUrl
    {
        get
        {
            var host = "localhost";
            if (IPAddress.TryParse(options.Value.ListenAddress, out var ip) && !ip.Equals(IPAddress.Any) && !ip.Equals(IPAddress.IPv6Any))
            {
                host = ip.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{ip}]" : ip.ToString();
            }

            return $"https://{host}:{Port}";
        }
    }

    /// <summary><c>PublicHostName:port</c>, the address published in policies.</summary>
    public string PublicHostPort => $"{options.Value.PublicHostName}:{Port}";
}
