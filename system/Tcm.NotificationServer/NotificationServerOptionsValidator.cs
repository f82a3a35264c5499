using System.Net;
using Microsoft.Extensions.Options;

namespace Tcm.NotificationServer;

/// <summary>Checks <see cref="NotificationServerOptions"/> at start, with messages that name the setting and say what is wrong.</summary>
internal sealed class NotificationServerOptionsValidator : IValidateOptions<NotificationServerOptions>
{
    public ValidateOptionsResult Validate(string? name, NotificationServerOptions options)
    {
        var failures = new List<string>();
        const string prefix = NotificationServerOptions.SectionName + ":";

        if (string.IsNullOrWhiteSpace(options.DataDirectory))
        {
            failures.Add($"{prefix}DataDirectory must name a folder for the database and the CA (default 'data/ns').");
        }

        if (!IsValidListenAddress(options.ListenAddress))
        {
            failures.Add($"{prefix}ListenAddress '{options.ListenAddress}' is not an IP address, 'localhost' or '*'.");
        }
        else if (options.ListenAddress == "localhost" && options.Port == 0)
        {
            failures.Add($"{prefix}ListenAddress 'localhost' cannot be used with Port 0; use 127.0.0.1.");
        }

        if (options.Port is < 0 or > 65535)
        {
            failures.Add($"{prefix}Port {options.Port} is outside 0..65535 (0 picks a free port).");
        }

        if (string.IsNullOrWhiteSpace(options.PublicHostName) || Uri.CheckHostName(options.PublicHostName) == UriHostNameType.Unknown)
        {
            failures.Add($"{prefix}PublicHostName '{options.PublicHostName}' is not a valid host name.");
        }

        if (string.IsNullOrWhiteSpace(options.ServerName))
        {
            failures.Add($"{prefix}ServerName must not be empty.");
        }

        if (options.AdminApiKey is not null && options.AdminApiKey.Trim().Length < 16)
        {
            failures.Add($"{prefix}AdminApiKey must be at least 16 characters, or left unset to have one generated into the data folder.");
        }

        if (options.MaxMessageBytes is < 4096 or > 64 * 1024 * 1024)
        {
            failures.Add($"{prefix}MaxMessageBytes {options.MaxMessageBytes} is outside 4096..67108864.");
        }

        if (options.HelloTimeout <= TimeSpan.Zero || options.HelloTimeout > TimeSpan.FromMinutes(5))
        {
            failures.Add($"{prefix}HelloTimeout {options.HelloTimeout} must be greater than zero and at most 5 minutes.");
        }

        if (options.KeepAliveInterval < TimeSpan.Zero)
        {
            failures.Add($"{prefix}KeepAliveInterval {options.KeepAliveInterval} must not be negative (zero disables pings).");
        }

        if (options.KeepAliveTimeout < TimeSpan.Zero)
        {
            failures.Add($"{prefix}KeepAliveTimeout {options.KeepAliveTimeout} must not be negative.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static bool IsValidListenAddress(string? address) =>
        address is "localhost" or "*" || (address is not null && IPAddress.TryParse(address, out _));
}
