using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Tcm.Agent.Connection;
using Tcm.Agent.Download;
using Tcm.Agent.Network;
using Tcm.Agent.Status;
using Tcm.Protocol;
using Tcm.Protocol.Admin;

namespace Tcm.Agent;

// Package downloads: a separate path from the management connection (its own short-lived handler, purpose Download), which
// follows the same routing decision: while CEM is preferred, HTTPS codebases through the gateway only (the article's fix #2).
public sealed partial class TcmAgent
{
    private const int MaxUncHeaderBytes = 1024;

    /// <summary>
    /// Downloads <paramref name="package"/> from the best of its codebases (see <c>docs/architecture.md</c>, "Downloads"):
    /// while the routing decision is CEM, only HTTPS codebases, each through the CEM gateway's relay, so no download goes to a
    /// corporate codebase directly (and so not over a VPN adapter); otherwise the nearest first: codebases at the agent's site
    /// (its <c>site</c> attribute), then those without a site, then those at other sites, each group UNC, HTTP, then HTTPS. The
    /// next codebase is tried when one fails. The content is read and hashed (SHA-256), not kept. Waits for a pending route re-evaluation
    /// first. Does not change the Network Status, which reflects the management connection only.
    /// </summary>
    public async Task<DownloadResult> DownloadPackageAsync(PackageReference package, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(package);
        var identity = _agent.Identity ?? throw new InvalidOperationException("the agent is not registered yet");
        var plan = await _agent.Routes.EnsureCurrentAsync(ct).ConfigureAwait(false);
        var gateway = plan.Mode == ConnectionMode.Cem ? plan.Gateway : null;
        var candidates = CodebaseSelector.Order(package.Codebases, gateway, AgentSite, out var skipped);
        var notes = new List<string>(skipped);
        foreach (var note in skipped)
        {
            Log.CodebaseSkipped(_logger, package.Id, note);
        }

        var trust = gateway is not null && !string.IsNullOrWhiteSpace(plan.Cem?.GatewayCaCertificatePem) ? plan.Cem.GatewayCaCertificatePem : identity.CaCertificatePem;
        foreach (var candidate in candidates)
        {
            Log.Downloading(_logger, package.Id, candidate.Codebase.Kind, candidate.Codebase.Location, candidate.ThroughGateway ? $"through CEM gateway '{gateway}'" : "directly", candidate.Reason);
            try
            {
                var (bytes, hash) = candidate.Url is { } url
                    ? await DownloadHttpAsync(url, identity, trust, ct).ConfigureAwait(false)
                    : await DownloadUncAsync(candidate.Codebase.Location, ct).ConfigureAwait(false);
                Log.Downloaded(_logger, package.Id, bytes, candidate.Codebase.Location);
                return new DownloadResult
                {
                    PackageId = package.Id,
                    Succeeded = true,
                    Codebase = candidate.Codebase,
                    ThroughGateway = candidate.ThroughGateway,
                    Reason = candidate.Reason,
                    Bytes = bytes,
                    Sha256 = hash,
                    Mode = plan.EffectiveMode,
                    Notes = notes,
                };
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException or System.Net.Sockets.SocketException or InvalidDataException
                or System.Security.Authentication.AuthenticationException || (ex is OperationCanceledException && !ct.IsCancellationRequested))
            {
                var note = $"{candidate.Codebase.Kind} codebase '{candidate.Codebase.Location}' failed: {ex.Message}";
                notes.Add(note);
                Log.CodebaseFailed(_logger, package.Id, note);
            }
        }

        Log.DownloadFailed(_logger, package.Id, notes.Count == 0 ? "the package has no codebase" : string.Join("; ", notes));
        return new DownloadResult { PackageId = package.Id, Mode = plan.EffectiveMode, Notes = notes };
    }

    /// <summary>The agent's <c>site</c> attribute (the key compared case-insensitively), or null when it has none.</summary>
    private string? AgentSite =>
        _options.Attributes?.FirstOrDefault(a => string.Equals(a.Key, "site", StringComparison.OrdinalIgnoreCase)).Value is { } site
        && !string.IsNullOrWhiteSpace(site) ? site : null;

    private async Task<(long Bytes, string Sha256)> DownloadHttpAsync(Uri url, State.AgentState identity, string trustPem, CancellationToken ct)
    {
        // Its own handler (purpose Download): downloads never share the management connection, and hold nothing afterwards. Through
        // the profile's proxy like every HTTP connection; a UNC codebase (SMB on a real machine) never goes through an HTTP proxy.
        var certificate = AgentTransport.LoadClientCertificate(identity.ClientCertificatePem, identity.PrivateKeyPem);
        using var transport = new AgentTransport(_agent.Network, trustPem, certificate, new AgentCounters(), _options.HttpVersion, _options.RequestTimeout, TrafficPurpose.Download);
        using var request = new System.Net.Http.HttpRequestMessage(HttpMethod.Get, url) { Version = _options.HttpVersion, VersionPolicy = HttpVersionPolicy.RequestVersionOrLower };
        request.Options.Set(AgentTransport.PurposeKey, TrafficPurpose.Download);
        using var response = await transport.Invoker.SendAsync(request, ct).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            var refusal = response.Headers.TryGetValues(AgentTransport.RefusalHeader, out var values) ? $" {values.FirstOrDefault()}" : "";
            throw new HttpRequestException($"HTTP {(int)response.StatusCode}{refusal}", null, response.StatusCode);
        }

        var body = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
        await using (body.ConfigureAwait(false))
        {
            return await HashAsync(body, long.MaxValue, ct).ConfigureAwait(false);
        }
    }

    private async Task<(long Bytes, string Sha256)> DownloadUncAsync(string location, CancellationToken ct)
    {
        if (!UncPath.TryParse(location, out var unc))
        {
            throw new InvalidDataException($"'{location}' is not a UNC path (\\\\host[@port]\\share\\path)");
        }

        var stream = await _network.ConnectAsync(new DnsEndPoint(unc.Host, unc.Port), TrafficPurpose.Download, ct).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            await stream.WriteAsync(Encoding.UTF8.GetBytes($"READ {unc.SharePath}\n"), ct).ConfigureAwait(false);
            await stream.FlushAsync(ct).ConfigureAwait(false);
            var header = await ReadLineAsync(stream, ct).ConfigureAwait(false);
            if (header.StartsWith("OK ", StringComparison.Ordinal) && long.TryParse(header.AsSpan(3), NumberStyles.None, CultureInfo.InvariantCulture, out var length))
            {
                var (bytes, hash) = await HashAsync(stream, length, ct).ConfigureAwait(false);
                return bytes == length ? (bytes, hash) : throw new IOException($"the UNC server sent {bytes} of {length} bytes");
            }

            throw new IOException(header.StartsWith("ERR ", StringComparison.Ordinal) ? $"the UNC server refused: {header[4..]}" : $"unexpected UNC answer '{header}'");
        }
    }

    private static async Task<string> ReadLineAsync(Stream stream, CancellationToken ct)
    {
        var line = new List<byte>(64);
        var one = new byte[1];
        while (line.Count < MaxUncHeaderBytes)
        {
            if (await stream.ReadAsync(one, ct).ConfigureAwait(false) == 0)
            {
                throw new IOException("the UNC server closed before answering");
            }

            if (one[0] == (byte)'\n')
            {
                return Encoding.UTF8.GetString([.. line]);
            }

            line.Add(one[0]);
        }

        throw new InvalidDataException("the UNC server's answer line is too long");
    }

    private static async Task<(long Bytes, string Sha256)> HashAsync(Stream body, long limit, CancellationToken ct)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[16 * 1024];
        long total = 0;
        while (total < limit)
        {
            var read = await body.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, limit - total)), ct).ConfigureAwait(false);
            if (read == 0)
            {
                break;
            }

            sha.AppendData(buffer, 0, read);
            total += read;
        }

        return (total, Convert.ToHexStringLower(sha.GetHashAndReset()));
    }

    private static partial class Log
    {
        [LoggerMessage(1090, LogLevel.Information, "Downloading package {PackageId} from {Kind} codebase '{Location}' {Via}; {Reason}", EventName = "Downloading")]
        public static partial void Downloading(ILogger logger, string packageId, CodebaseKind kind, string location, string via, string reason);

        [LoggerMessage(1091, LogLevel.Information, "Package {PackageId} downloaded: {Bytes} bytes from '{Location}'", EventName = "Downloaded")]
        public static partial void Downloaded(ILogger logger, string packageId, long bytes, string location);

        [LoggerMessage(1092, LogLevel.Information, "Package {PackageId}: {Note}", EventName = "CodebaseSkipped")]
        public static partial void CodebaseSkipped(ILogger logger, string packageId, string note);

        [LoggerMessage(1093, LogLevel.Warning, "Package {PackageId}: {Note}", EventName = "CodebaseFailed")]
        public static partial void CodebaseFailed(ILogger logger, string packageId, string note);

        [LoggerMessage(1094, LogLevel.Warning, "Package {PackageId} could not be downloaded: {Reason}", EventName = "DownloadFailed")]
        public static partial void DownloadFailed(ILogger logger, string packageId, string reason);
    }
}
