using Tcm.Gateway.Relay;
using Tcm.Hosting.Options;

namespace Tcm.Gateway;

/// <summary>Checks <see cref="GatewayOptions"/> at start, with messages that name the setting and say what is wrong.</summary>
internal sealed class GatewayOptionsValidator()
    : TcmServerOptionsValidator<GatewayOptions>(GatewayOptions.SectionName, "the gateway's identity (default 'data/gateway')")
{
    protected override void Validate(GatewayOptions options, OptionsFailures failures)
    {
        var prefix = failures.Prefix;

        if (string.IsNullOrWhiteSpace(options.Name) || options.Name.Any(c => char.IsControl(c) || c == ','))
        {
            failures.Add($"{prefix}Name '{options.Name}' must be a non-empty name without commas.");
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

            if (backend.Destinations.Count > 0 && !string.IsNullOrWhiteSpace(backend.ConnectTo))
            {
                failures.Add($"{label}: set ConnectTo or Destinations, not both.");
            }

            for (var d = 0; d < backend.Destinations.Count; d++)
            {
                if (!RelayAddress.TryNormalizeHostAndPort(backend.Destinations[d], out _, out var destinationProblem))
                {
                    failures.Add($"{label}:Destinations:{d}: {destinationProblem}.");
                }
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

        // why: YARP arms its activity timer in whole milliseconds as an int.
        var longestTimer = TimeSpan.FromMilliseconds(int.MaxValue);
        failures.Between(options.TunnelIdleTimeout, longestTimer, nameof(GatewayOptions.TunnelIdleTimeout));
        failures.Positive(options.KeepAliveTimeout, nameof(GatewayOptions.KeepAliveTimeout));
        // why: the interval is announced to the backend in whole seconds, which accepts 1 to 3600.
        if (options.RelayedKeepAliveInterval != TimeSpan.Zero && (options.RelayedKeepAliveInterval < TimeSpan.FromSeconds(1) || options.RelayedKeepAliveInterval > TimeSpan.FromHours(1)))
        {
            failures.Add($"{prefix}{nameof(GatewayOptions.RelayedKeepAliveInterval)} {options.RelayedKeepAliveInterval} must be zero (every ping relayed) or between 1 second and 1 hour.");
        }
        failures.Positive(options.BackendConnectTimeout, nameof(GatewayOptions.BackendConnectTimeout));
        failures.Between(options.BackendResponseTimeout, longestTimer, nameof(GatewayOptions.BackendResponseTimeout));
        // why: Kestrel and SocketsHttpHandler refuse a ping delay or timeout under one second when they are configured.
        PingTime(failures, options.Http2KeepAlivePingDelay, longestTimer, nameof(GatewayOptions.Http2KeepAlivePingDelay), zeroDisables: true);
        PingTime(failures, options.BackendKeepAlivePingDelay, longestTimer, nameof(GatewayOptions.BackendKeepAlivePingDelay), zeroDisables: true);
        PingTime(failures, options.Http2KeepAlivePingTimeout, longestTimer, nameof(GatewayOptions.Http2KeepAlivePingTimeout), zeroDisables: false);
        failures.NotNegative(options.ReportInterval, nameof(GatewayOptions.ReportInterval), "zero turns the link to the Notification Server off");
        if (options.ReportInterval > TimeSpan.FromHours(1))
        {
            failures.Add($"{prefix}{nameof(GatewayOptions.ReportInterval)} {options.ReportInterval} must be at most 1 hour.");
        }

        failures.Range(options.MaxStreamsPerAgentConnection, 1, 1000, nameof(GatewayOptions.MaxStreamsPerAgentConnection));
    }

    private static void PingTime(OptionsFailures failures, TimeSpan value, TimeSpan max, string setting, bool zeroDisables)
    {
        if (zeroDisables && value == TimeSpan.Zero)
        {
            return;
        }

        if (value < TimeSpan.FromSeconds(1) || value > max)
        {
            failures.Add(zeroDisables
                ? $"{failures.Prefix}{setting} {value} must be zero (no pings) or between 1 second and {max.TotalDays:0} days."
                : $"{failures.Prefix}{setting} {value} must be between 1 second and {max.TotalDays:0} days.");
        }
    }
}
