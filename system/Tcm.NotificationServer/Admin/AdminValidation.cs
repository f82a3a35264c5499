using System.Globalization;
using Tcm.Protocol.Admin;

namespace Tcm.NotificationServer.Admin;

/// <summary>Input checks of the admin API; each returns the first problem as "field: why", or null.</summary>
internal static class AdminValidation
{
    public static string? Validate(CommunicationProfile profile)
    {
        if (NameProblem(profile.Name) is { } name)
        {
            return name;
        }

        if (profile.Priority < 0)
        {
            return "priority: must be zero or more (lower wins)";
        }

        for (var i = 0; i < (profile.ServerHosts?.Count ?? 0); i++)
        {
            if (HostPortProblem(profile.ServerHosts![i]) is { } problem)
            {
                return $"serverHosts[{i}]: {problem}";
            }
        }

        if (profile.Cem is { } cem && HostPortProblem(cem.GatewayAddress) is { } cemProblem)
        {
            return $"cem.gatewayAddress: {cemProblem}";
        }

        return (profile.Proxy is { } proxy ? ProxyProblem(proxy) : null) ?? Validate(profile.Targets);
    }

    public static string? Validate(TargetedAgentSettings settings)
    {
        if (NameProblem(settings.Name) is { } name)
        {
            return name;
        }

        if (settings.Priority < 0)
        {
            return "priority: must be zero or more (lower wins)";
        }

        var s = settings.Settings;
        if (s is null)
        {
            return "settings: required";
        }

        if (s.PolicyRefreshSeconds is < 1 or > 7 * 24 * 3600)
        {
            return "settings.policyRefreshSeconds: must be between 1 and 604800";
        }

        if (s.TaskPollSeconds is < 1 or > 7 * 24 * 3600)
        {
            return "settings.taskPollSeconds: must be between 1 and 604800";
        }

        if (s.KeepAliveSeconds is < 1 or > 3600)
        {
            return "settings.keepAliveSeconds: must be between 1 and 3600";
        }

        for (var i = 0; i < (s.VpnAdapters?.Count ?? 0); i++)
        {
            if (string.IsNullOrWhiteSpace(s.VpnAdapters![i]))
            {
                return $"settings.vpnAdapters[{i}]: must not be empty";
            }
        }

        var windows = s.MaintenanceWindows ?? [];
        for (var i = 0; i < windows.Count; i++)
        {
            if (windows[i]?.Check() is { } window)
            {
                return $"settings.maintenanceWindows[{i}]: {window}";
            }
        }

        return Validate(settings.Targets);
    }

    public static string? Validate(Targets? targets, string field = "targets")
    {
        if (targets is null)
        {
            return $"{field}: required (use {{\"all\": true}} for every agent)";
        }

        for (var i = 0; i < (targets.Agents?.Count ?? 0); i++)
        {
            if (string.IsNullOrWhiteSpace(targets.Agents![i]))
            {
                return $"{field}.agents[{i}]: must be an agent id or computer name";
            }
        }

        for (var i = 0; i < (targets.Rules?.Count ?? 0); i++)
        {
            var rule = targets.Rules![i];
            if (rule is null || string.IsNullOrWhiteSpace(rule.Attribute))
            {
                return $"{field}.rules[{i}].attribute: required (computerName, domain, os, or a registered attribute)";
            }

            if (string.IsNullOrEmpty(rule.Pattern))
            {
                return $"{field}.rules[{i}].pattern: required (* and ? wildcards)";
            }
        }

        return null;
    }

    public static string? Validate(PushTaskRequest request)
    {
        if (string.IsNullOrWhiteSpace(request.Command))
        {
            return "command: required (echo, sleep, inventory, ...)";
        }

        if (request.TimeoutSeconds is < 1 or > 24 * 3600)
        {
            return "timeoutSeconds: must be between 1 and 86400";
        }

        return Validate(request.Targets);
    }

    private static string? ProxyProblem(ProxySettings proxy)
    {
        if (proxy.Mode == ProxyMode.Explicit && !ProxySettings.TryParseAddress(proxy.Address, out _, out _, out var problem))
        {
            return $"proxy.address: {problem}";
        }

        if (proxy.Mode != ProxyMode.Explicit && proxy.Address is not null)
        {
            return $"proxy.address: only with mode 'explicit' (mode is '{proxy.Mode.ToString().ToLowerInvariant()}')";
        }

        if (proxy.Password is { Length: > 0 } && string.IsNullOrEmpty(proxy.UserName))
        {
            return "proxy.password: needs a userName";
        }

        for (var i = 0; i < (proxy.Bypass?.Count ?? 0); i++)
        {
            if (string.IsNullOrWhiteSpace(proxy.Bypass![i]))
            {
                return $"proxy.bypass[{i}]: must be a host name, host:port or <local>";
            }
        }

        return null;
    }

    /// <summary>Checks an id given in a body or route: 1 to 64 letters, digits, '-', '_' or '.'.</summary>
    public static string? IdProblem(string id, string field = "id") =>
        id.Length is < 1 or > 64 || id.AsSpan().IndexOfAnyExcept("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") >= 0
            ? $"{field}: must be 1 to 64 letters, digits, '-', '_' or '.'"
            : null;

    private static string? NameProblem(string? name) =>
        string.IsNullOrWhiteSpace(name) ? "name: required"
        : name.Length > 200 ? "name: at most 200 characters"
        : null;

    private static string? HostPortProblem(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return "must be host:port";
        }

        var colon = value.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(value.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
        {
            return $"'{value}' is not host:port with a port between 1 and 65535";
        }

        var host = value[..colon].Trim('[', ']');
        return Uri.CheckHostName(host) == UriHostNameType.Unknown ? $"'{host}' is not a valid host name" : null;
    }
}
