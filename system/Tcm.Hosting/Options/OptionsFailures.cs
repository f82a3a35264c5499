using System.Net;
using Microsoft.Extensions.Options;
using Tcm.Hosting.Listeners;

namespace Tcm.Hosting.Options;

/// <summary>
/// Collects what is wrong with a server's options, each message naming the setting (<c>Section:Setting</c>) and saying what
/// is expected; the checks every server shares are here, so the three validators word them the same way.
/// </summary>
public sealed class OptionsFailures(string sectionName)
{
    private readonly List<string> _failures = [];

    /// <summary><c>Section:</c>, the prefix of every setting's name.</summary>
    public string Prefix { get; } = sectionName + ":";

    /// <summary>The failures so far.</summary>
    public IReadOnlyList<string> All => _failures;

    /// <summary>Success, or a failure listing every message.</summary>
    public ValidateOptionsResult Result => _failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(_failures);

    /// <summary>Adds a message as it is.</summary>
    public void Add(string message) => _failures.Add(message);

    /// <summary>The checks of <see cref="TcmServerOptions"/>: data folder, listen address, port, public host name, admin key, listen backlog and admission.</summary>
    /// <param name="options">The options.</param>
    /// <param name="dataPurpose">What the data folder holds and its default, e.g. <c>the database and the CA (default 'data/ns')</c>.</param>
    public void Server(TcmServerOptions options, string dataPurpose)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrWhiteSpace(options.DataDirectory))
        {
            Add($"{Prefix}DataDirectory must name a folder for {dataPurpose}.");
        }

        if (!IsListenAddress(options.ListenAddress))
        {
            Add($"{Prefix}ListenAddress '{options.ListenAddress}' is not an IP address, 'localhost' or '*'.");
        }
        else if (options.ListenAddress == "localhost" && options.Port == 0)
        {
            Add($"{Prefix}ListenAddress 'localhost' cannot be used with Port 0; use 127.0.0.1.");
        }

        Port(options.Port, "Port");
        HostName(options.PublicHostName, nameof(TcmServerOptions.PublicHostName));
        AdminKey(options.AdminApiKey);
        Range(options.ListenBacklog, 1, 65_535, nameof(TcmServerOptions.ListenBacklog));
        Admission(options.Admission);
    }

    /// <summary>The checks of <see cref="AdmissionOptions"/>: places at once, the queue and its timeout, the hold limit (zero: TLS only).</summary>
    public void Admission(AdmissionOptions? options)
    {
        if (options is null)
        {
            Add($"{Prefix}Admission must not be empty.");
            return;
        }

        Range(options.MaxConcurrentHandshakes, 1, 100_000, "Admission:MaxConcurrentHandshakes");
        Range(options.MaxConcurrentUpgrades, 1, 100_000, "Admission:MaxConcurrentUpgrades");
        Range(options.MaxQueued, 0, 1_000_000, "Admission:MaxQueued");
        Between(options.QueueTimeout, AdmissionOptions.MaxQueueTimeout, "Admission:QueueTimeout");
        if (options.ConnectHoldLimit != TimeSpan.Zero)
        {
            Between(options.ConnectHoldLimit, AdmissionOptions.MaxConnectHoldLimit, "Admission:ConnectHoldLimit");
        }
    }

    /// <summary>
    /// The checks of <see cref="TcmChannelServerOptions"/>: the largest message (4 KiB to <paramref name="maxMessageBytesCeiling"/>),
    /// the hello deadline (at most 5 minutes), the keep-alive, the pushes and each channel's results in flight and the result acknowledgements' delay (zero, or up to a minute).
    /// </summary>
    public void Channel(TcmChannelServerOptions options, int maxMessageBytesCeiling)
    {
        ArgumentNullException.ThrowIfNull(options);
        Range(options.MaxMessageBytes, 4096, maxMessageBytesCeiling, nameof(TcmChannelServerOptions.MaxMessageBytes));
        Between(options.HelloTimeout, TimeSpan.FromMinutes(5), nameof(TcmChannelServerOptions.HelloTimeout));
        NotNegative(options.KeepAliveInterval, nameof(TcmChannelServerOptions.KeepAliveInterval), "zero disables pings");
        NotNegative(options.KeepAliveTimeout, nameof(TcmChannelServerOptions.KeepAliveTimeout));
        Range(options.MaxPushesInFlight, 1, 10_000_000, nameof(TcmChannelServerOptions.MaxPushesInFlight));
        Range(options.MaxResultsInFlight, 1, 1024, nameof(TcmChannelServerOptions.MaxResultsInFlight));
        if (options.ResultAckDelay < TimeSpan.Zero || options.ResultAckDelay > TcmChannelServerOptions.MaxResultAckDelay)
        {
            Add($"{Prefix}{nameof(TcmChannelServerOptions.ResultAckDelay)} {options.ResultAckDelay} must be between zero (every result acknowledged at once) and 1 minute.");
        }
    }

    /// <summary>A port in 0..65535 (0 picks a free port).</summary>
    public void Port(int? port, string setting)
    {
        if (port is < 0 or > 65535)
        {
            Add($"{Prefix}{setting} {port} is outside 0..65535 (0 picks a free port).");
        }
    }

    /// <summary>A DNS name or IP address.</summary>
    public void HostName(string? value, string setting)
    {
        if (string.IsNullOrWhiteSpace(value) || Uri.CheckHostName(value) == UriHostNameType.Unknown)
        {
            Add($"{Prefix}{setting} '{value}' is not a valid host name.");
        }
    }

    /// <summary>An admin key of at least 16 characters, or none (one is generated into the data folder).</summary>
    public void AdminKey(string? value)
    {
        if (value is not null && value.Trim().Length < 16)
        {
            Add($"{Prefix}AdminApiKey must be at least 16 characters, or left unset to have one generated into the data folder.");
        }
    }

    /// <summary>A whole number in <paramref name="min"/>..<paramref name="max"/>.</summary>
    public void Range(long value, long min, long max, string setting)
    {
        if (value < min || value > max)
        {
            Add($"{Prefix}{setting} {value} is outside {min}..{max}.");
        }
    }

    /// <summary>A duration greater than zero.</summary>
    public void Positive(TimeSpan value, string setting)
    {
        if (value <= TimeSpan.Zero)
        {
            Add($"{Prefix}{setting} must be positive (it is {value}).");
        }
    }

    /// <summary>A duration greater than zero and at most <paramref name="max"/>.</summary>
    public void Between(TimeSpan value, TimeSpan max, string setting)
    {
        if (value <= TimeSpan.Zero || value > max)
        {
            Add($"{Prefix}{setting} {value} must be greater than zero and at most {Describe(max)}.");
        }
    }

    /// <summary>A duration of zero or more; <paramref name="zeroMeans"/> says what zero does, if anything.</summary>
    public void NotNegative(TimeSpan value, string setting, string? zeroMeans = null)
    {
        if (value < TimeSpan.Zero)
        {
            Add(zeroMeans is null
                ? $"{Prefix}{setting} {value} must not be negative."
                : $"{Prefix}{setting} {value} must not be negative ({zeroMeans}).");
        }
    }

    /// <summary>Whether <paramref name="address"/> is an IP address, <c>localhost</c> or <c>*</c>.</summary>
    public static bool IsListenAddress(string? address) =>
        address is "localhost" or "*" || (address is not null && IPAddress.TryParse(address, out _));

    private static string Describe(TimeSpan value) =>
        value.TotalMinutes >= 1 && value.Seconds == 0 ? $"{value.TotalMinutes:0} minutes" : $"{value.TotalSeconds:0} seconds";
}
