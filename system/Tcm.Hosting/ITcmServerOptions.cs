namespace Tcm.Hosting;

/// <summary>The settings every TCM server has: where it keeps its data, where it listens and the name agents reach it by.</summary>
public interface ITcmServerOptions
{
    /// <summary>Folder of the server's files (database, certificates, admin key).</summary>
    string DataDirectory { get; }

    /// <summary>IP address the HTTPS listener binds; <c>*</c> for every address, <c>localhost</c> for the loopback addresses.</summary>
    string ListenAddress { get; }

    /// <summary>HTTPS port; 0 picks a free port.</summary>
    int Port { get; }

    /// <summary>Host name agents use to reach the server.</summary>
    string PublicHostName { get; }
}
