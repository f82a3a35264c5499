using System.Net;
using Microsoft.Extensions.Options;
using Tcm.Gateway.Relay;

namespace Tcm.Gateway;

/// <summary>Checks <see cref="GatewayOptions"/> at start, with messages that name the setting and say what is wrong.</summary>
internal sealed class GatewayOptionsValidator : IValidateOptions<GatewayOptions>
{
    public ValidateOptionsResult Validate(string? name, GatewayOptions options)
    {
        var failures = new List<string>();
        const string prefix = GatewayOptions.SectionName + ":";

        if (string.IsNullOrWhiteSpace(options.Name) || options.Name.Any(c => char.IsControl(c) || c == ','))
        {
            failures.Add($"{prefix}Name '{options.Name}' must be a non-empty name without commas.");
        }

        if (string.IsNullOrWhiteSpace(options.DataDirectory))
        {
            failures.Add($"{prefix}DataDirectory must name a folder for the gateway's identity (default 'data/gateway').");
        }

        if (options.ListenAddress is not ("*" or "localhost") && !IPAddress.TryParse(options.ListenAddress, out _))
        {
            failures.Add($"{prefix}ListenAddress '{options.ListenAddress}' is not an IP address, 'localhost' or '*'.");
        }

        if (options.Port is < 0 or > 65535)
        {
            failures.Add($"{prefix}Port {options.Port} is outside 0..65535 (0 picks a free port).");
        }

        if (options.Backends.Count == 0)
        {
            failures.Add($"{prefix}Backends is empty: configure at least one Notification Server (Name, Address host:port, Kind NotificationServer).");
        }
        else if (!options.Backends.Any(b => b.Kind == BackendKind.NotificationServer))
        {
            failures.Add($"{prefix}Backends has no Notification Server: the gateway registers with one and presents its certificate.");
        }

        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var addresses = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < options.Backends.Count; i++)
        {
            var backend = options.Backends[i];
            var label = $"{prefix}Backends:{i}";
            if (string.IsNullOrWhiteSpace(backend.Name) || backend.Name.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0)
            {
                failures.Add($"{label}:Name '{backend.Name}' must be a non-empty name usable as a file name.");
            }
            else if (!names.Add(backend.Name))
            {
                failures.Add($"{label}:Name '{backend.Name}' is used by another backend.");
            }

            if (!RelayAddress.TryNormalizeHostAndPort(backend.Address, out var address, out var problem))
            {
                failures.Add($"{label}:Address: {problem}.");
            }
            else if (addresses.TryGetValue(address, out var other))
            {
                failures.Add($"{label}:Address '{backend.Address}' is also the address of backend '{other}'.");
            }
            else
            {
                addresses[address] = backend.Name;
            }

            if (!string.IsNullOrWhiteSpace(backend.ConnectTo) && !RelayAddress.TryNormalizeHostAndPort(backend.ConnectTo, out _, out var connectProblem))
            {
                failures.Add($"{label}:ConnectTo: {connectProblem}.");
            }

            if (backend.CaCertificateFile is { } ca && !File.Exists(ca))
            {
                failures.Add($"{label}:CaCertificateFile '{ca}' does not exist.");
            }

            if (backend.Kind == BackendKind.TaskServer && backend.Identity is { } identity
                && !options.Backends.Any(b => b.Kind == BackendKind.NotificationServer && string.Equals(b.Name, identity, StringComparison.OrdinalIgnoreCase)))
            {
                failures.Add($"{label}:Identity '{identity}' names no Notification Server backend.");
            }
        }

        foreach (var file in options.CaCertificateFiles.Where(f => !File.Exists(f)))
        {
            failures.Add($"{prefix}CaCertificateFiles: '{file}' does not exist.");
        }

        Positive(options.TunnelIdleTimeout, nameof(GatewayOptions.TunnelIdleTimeout));
        Positive(options.KeepAliveTimeout, nameof(GatewayOptions.KeepAliveTimeout));
        Positive(options.BackendConnectTimeout, nameof(GatewayOptions.BackendConnectTimeout));
        Positive(options.BackendResponseTimeout, nameof(GatewayOptions.BackendResponseTimeout));
        Positive(options.Http2KeepAlivePingTimeout, nameof(GatewayOptions.Http2KeepAlivePingTimeout));
        if (options.Http2KeepAlivePingDelay < TimeSpan.Zero)
        {
            failures.Add($"{prefix}Http2KeepAlivePingDelay must not be negative (zero disables the pings).");
        }

        if (options.MaxStreamsPerAgentConnection is < 1 or > 1000)
        {
            failures.Add($"{prefix}MaxStreamsPerAgentConnection {options.MaxStreamsPerAgentConnection} is outside 1..1000.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);

        void Positive(TimeSpan value, string setting)
        {
            if (value <= TimeSpan.Zero)
            {
                failures.Add($"{prefix}{setting} must be positive (it is {value}).");
            }
        }
    }
}
