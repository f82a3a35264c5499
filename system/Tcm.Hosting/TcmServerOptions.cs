using Tcm.Hosting.Listeners;

namespace Tcm.Hosting;

/// <summary>
/// The settings every TCM server has, bound from its own configuration section: where it keeps its data, where it listens
/// and the name agents reach it by. Each server gives its own defaults.
/// </summary>
public abstract class TcmServerOptions
{
    /// <summary>Sets the server's defaults.</summary>
    /// <param name="dataDirectory">The default data folder, e.g. <c>data/ns</c>.</param>
    /// <param name="port">The default HTTPS port, e.g. 4443.</param>
    protected TcmServerOptions(string dataDirectory, int port)
    {
        DataDirectory = dataDirectory;
        Port = port;
    }

    /// <summary>
    /// Folder of the server's files: the database, certificates and identity, the generated admin key. Default per server:
    /// <c>data/ns</c>, <c>data/ts</c>, <c>data/gateway</c>.
    /// </summary>
    public string DataDirectory { get; set; }

    /// <summary>IP address the HTTPS listener binds; <c>*</c> listens on every address, <c>localhost</c> on the loopback ones. Default <c>127.0.0.1</c>.</summary>
    public string ListenAddress { get; set; } = "127.0.0.1";

    /// <summary>HTTPS port (HTTP/1.1 and HTTP/2); 0 picks a free port (tests). Default per server: 4443 (NS), 4726 (Task Server), 8443 (gateway).</summary>
    public int Port { get; set; }

    /// <summary>
    /// Host name agents use to reach the server: it goes into the server's certificate, into policies (NS, Task Server), install
    /// packages (NS) and the site-server registration (Task Server, gateway). Default <c>localhost</c>.
    /// </summary>
    public string PublicHostName { get; set; } = "localhost";

    /// <summary>
    /// Key of the server's admin endpoints (the NS's admin API, the gateway's status and approvals, every server's
    /// <c>/metrics</c> and process diagnostics), at least 16 characters. Default null: a key is generated on first run into
    /// <c>&lt;DataDirectory&gt;/admin.key</c> and reused.
    /// </summary>
    public string? AdminApiKey { get; set; }

    /// <summary>
    /// Connections the kernel holds waiting for the server to accept them (the listen backlog; Linux caps it at
    /// <c>net.core.somaxconn</c>). After an outage the whole fleet dials at once; with Kestrel's 512 the kernel drops the SYNs
    /// beyond it while the restarted server is still warming up, and those agents retry only after the TCP retransmission
    /// timeout (1 s, then 3 s, 7 s...). Admission then paces what was accepted. Default 4,096.
    /// </summary>
    public int ListenBacklog { get; set; } = DefaultListenBacklog;

    /// <summary>The default of <see cref="ListenBacklog"/>.</summary>
    public const int DefaultListenBacklog = 4096;

    /// <summary>TLS handshakes and channel upgrades at once, and how long the rest wait (section <c>Admission</c>). Default <c>new AdmissionOptions()</c>.</summary>
    public AdmissionOptions Admission { get; set; } = new();
}
