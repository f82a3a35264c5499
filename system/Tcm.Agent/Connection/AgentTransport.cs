using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Tcm.Agent.Network;
using Tcm.Agent.Status;
using Tcm.Protocol;

namespace Tcm.Agent.Connection;

/// <summary>
/// One agent's way to its server: two <see cref="SocketsHttpHandler"/>s, one for requests (<see cref="Invoker"/>) and one for the
/// channel's <see cref="System.Net.WebSockets.ClientWebSocket"/> (<see cref="ChannelInvoker"/>), configured alike but for how long an
/// idle connection stays pooled: every socket comes from <see cref="INetwork"/>, TLS trusts only the package CA and presents the agent's
/// certificate, and both count bytes and record the negotiated TLS. Owns the client certificate it is given.
/// </summary>
internal sealed class AgentTransport : IDisposable
{
    /// <summary>Carries the <see cref="TrafficPurpose"/> of a request to the connect callback.</summary>
    public static readonly HttpRequestOptionsKey<TrafficPurpose> PurposeKey = new("Tcm.TrafficPurpose");

    /// <summary>The refusal header of every TCM error answer.</summary>
    public const string RefusalHeader = "X-Tcm-Refusal";

    // Every simulated agent trusts the same CA: its certificate, chain policy and check once per process, not once per agent.
    private static readonly ConcurrentDictionary<string, PackageTrust> _trustByPem = new(StringComparer.Ordinal);

    /// <summary>
    /// The HTTP/2 receive window of a download: the agent's processes run without dynamic window sizing (its round-trip pings
    /// doubled every idle keep-alive; build/AgentRuntime.props), so a download asks for a window that carries a package at
    /// 40 MB/s over a 100 ms path instead of the 64 KB default's 640 KB/s.
    /// </summary>
    internal const int DownloadStreamWindow = 4 * 1024 * 1024;

    /// <summary>
    /// How long a request's connection stays pooled once idle: an HTTP-only agent polls rarely; it must not hold a socket (an open file)
    /// between polls.
    /// </summary>
    internal static readonly TimeSpan RequestIdleTimeout = TimeSpan.FromSeconds(15);

    /// <summary>
    /// How long the channel's connection stays pooled once idle (its WebSocket closed; a live channel is a stream in use, never idle).
    /// </summary>
    /// <remarks>
    /// why a handler of its own with a longer timeout: a handler's pool scans its connections on a timer every idle timeout / 4 while it
    /// holds any (.NET's <c>HttpConnectionPoolManager</c>: at least 1 s, 30 s when the timeout is infinite), and an HTTP/2 channel keeps
    /// its connection pooled for as long as it is up. With the requests' 15 s that was a scan every 3.75 s per agent for nothing (about
    /// 530 timer firings a second in a process of 2,000 agents, the timer queue 4-7% of its CPU); two minutes scan every 30 s, and a
    /// connection left idle by a closed channel (the agent fell back to HTTP, which goes through the requests' handler) is still closed
    /// within two and a half minutes instead of being held for as long as the agent runs. Requests take the other handler: while the
    /// channel is up they go over the channel itself (<see cref="ServerRequests"/>), so the two handlers do not hold two sockets at once
    /// in the steady state.
    /// </remarks>
    internal static readonly TimeSpan ChannelIdleTimeout = TimeSpan.FromMinutes(2);

    private readonly SocketsHttpHandler _handler;
    private readonly SocketsHttpHandler _channelHandler;
    private readonly AgentCounters _counters;
    private readonly Version _httpVersion;
    private readonly X509Certificate2? _clientCertificate;
    private volatile TlsInfo? _tls;
    private volatile Tcm.Protocol.Admin.CertificateInfo? _rejected;
    private readonly TrafficPurpose _purpose;

    public AgentTransport(INetwork network, string caPem, X509Certificate2? clientCertificate, AgentCounters counters, Version httpVersion, TimeSpan connectTimeout,
        TrafficPurpose purpose = TrafficPurpose.Management)
        : this(network, caPem, clientCertificate, counters, httpVersion, connectTimeout, purpose, RequestIdleTimeout, ChannelIdleTimeout)
    {
    }

    /// <summary>With the two idle timeouts given (tests wait for a pool's scan in seconds, not minutes).</summary>
    internal AgentTransport(INetwork network, string caPem, X509Certificate2? clientCertificate, AgentCounters counters, Version httpVersion, TimeSpan connectTimeout,
        TrafficPurpose purpose, TimeSpan requestIdleTimeout, TimeSpan channelIdleTimeout)
    {
        _purpose = purpose;
        ArgumentNullException.ThrowIfNull(network);
        _counters = counters;
        _httpVersion = httpVersion;
        _clientCertificate = clientCertificate;
        var trust = GetTrust(caPem);
        // One context for both handlers: making it builds the certificate's chain.
        var clientContext = clientCertificate is null ? null : SslStreamCertificateContext.Create(clientCertificate, null, offline: true);
        _handler = CreateHandler(network, trust, clientContext, connectTimeout, requestIdleTimeout);
        _channelHandler = CreateHandler(network, trust, clientContext, connectTimeout, channelIdleTimeout);
        Invoker = new HttpMessageInvoker(_handler, disposeHandler: false);
        ChannelInvoker = new HttpMessageInvoker(_channelHandler, disposeHandler: false);
    }

    /// <summary>A handler of this agent's: every socket from <paramref name="network"/>, the package CA's trust, the agent's certificate.</summary>
    private SocketsHttpHandler CreateHandler(INetwork network, PackageTrust trust, SslStreamCertificateContext? clientContext, TimeSpan connectTimeout, TimeSpan idleTimeout) =>
        new()
        {
            // The profile's proxy is tunnelled inside INetwork (ProxiedNetwork), so the simulator models it; never the handler's own.
            UseProxy = false,
            UseCookies = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = connectTimeout,
            PooledConnectionIdleTimeout = idleTimeout,
            InitialHttp2StreamWindowSize = _purpose == TrafficPurpose.Download ? DownloadStreamWindow : 65_535,
            ConnectCallback = async (context, ct) =>
            {
                var purpose = context.InitialRequestMessage.Options.TryGetValue(PurposeKey, out var p) ? p : _purpose;
                return await network.ConnectAsync(context.DnsEndPoint, purpose, ct).ConfigureAwait(false);
            },
            PlaintextStreamFilter = (context, ct) =>
            {
                if (context.PlaintextStream is SslStream ssl)
                {
                    _tls = TlsObservation.Of(ssl);
                }

                return ValueTask.FromResult<Stream>(_counters.Count(context.PlaintextStream));
            },
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (sender, certificate, chain, errors) =>
                {
                    if (trust.Validate(sender, certificate, chain, errors))
                    {
                        return true;
                    }

                    // Which certificate and why: the Network Status names it (the handshake's exception does not). The machine's
                    // clock, as the chain check itself uses it.
                    _rejected = CertificateSummary.Rejected(certificate, errors, trust.Ca, DateTimeOffset.UtcNow);
                    return false;
                },
                CertificateRevocationCheckMode = System.Security.Cryptography.X509Certificates.X509RevocationMode.NoCheck,
                // why: SslStream builds the server's chain in every handshake; against the package CA alone (as the callback checks
                // anyway) instead of the system store, whose ~140 roots it sorted per handshake. SslStream clones the policy, so one
                // is shared by every handler that trusts this CA.
                CertificateChainPolicy = trust.ChainPolicy,
                // A context is sent whatever issuers the server lists; a collection would be filtered by them.
                ClientCertificateContext = clientContext,
            },
        };

    /// <summary>For requests (<see cref="SendAsync"/>, a download); the handler outlives it.</summary>
    public HttpMessageInvoker Invoker { get; }

    /// <summary>For the channel's <c>ClientWebSocket.ConnectAsync(uri, invoker, ct)</c>; the handler outlives it.</summary>
    public HttpMessageInvoker ChannelInvoker { get; }

    /// <summary>The identity whose certificate this handler presents, when a connection keeps a handler per identity.</summary>
    public State.AgentState? Identity { get; init; }

    /// <summary>The TLS protocol, cipher suite and server certificate of the last connection, once there was one.</summary>
    public TlsInfo? Tls => _tls;

    /// <summary>The certificate this handler last rejected, and why; null when it rejected none.</summary>
    public Tcm.Protocol.Admin.CertificateInfo? RejectedCertificate => _rejected;

    /// <summary>
    /// Sends one request and reads the whole answer. Throws for network failures and timeouts
    /// (<see cref="HttpRequestException"/>, <see cref="TimeoutException"/>); HTTP error statuses are returned, not thrown.
    /// </summary>
    public async Task<AgentResponse> SendAsync(HttpMethod method, Uri uri, byte[]? jsonBody, string? ifNoneMatch, TimeProvider time, TimeSpan timeout, CancellationToken ct)
    {
        using var request = new System.Net.Http.HttpRequestMessage(method, uri)
        {
            Version = _httpVersion,
            VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
        };
        request.Options.Set(PurposeKey, _purpose);
        if (jsonBody is not null)
        {
            request.Content = new ByteArrayContent(jsonBody);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }

        if (ifNoneMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-None-Match", Quote(ifNoneMatch));
        }

        using var timeoutCts = new CancellationTokenSource(timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, timeoutCts.Token);
        _counters.AddHttpRequest();
        try
        {
            using var response = await Invoker.SendAsync(request, linked.Token).ConfigureAwait(false);
            var bytes = await response.Content.ReadAsByteArrayAsync(linked.Token).ConfigureAwait(false);
            JsonElement? body = null;
            if (bytes.Length > 0 && IsJson(response))
            {
                try
                {
                    body = JsonElement.Parse(bytes);
                }
                catch (JsonException)
                {
                    // A non-JSON error page (a proxy, a crashed server) is reported by status alone.
                }
            }

            var etag = response.Headers.ETag?.Tag is { } tag ? Unquote(tag) : null;
            var refusal = response.Headers.TryGetValues(RefusalHeader, out var values) ? values.FirstOrDefault() : null;
            return new AgentResponse((int)response.StatusCode, etag, refusal, body);
        }
        catch (OperationCanceledException) when (timeoutCts.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            throw new TimeoutException($"{method} {uri.AbsolutePath} got no answer within {timeout.TotalSeconds:0.#} s");
        }
    }

    /// <summary>Serializes a request body with the protocol's source-generated metadata.</summary>
    public static byte[] Serialize<T>(T value, JsonTypeInfo<T> typeInfo) => JsonSerializer.SerializeToUtf8Bytes(value, typeInfo);

    /// <summary>
    /// Accepts the server only when its certificate chains to the package CA (custom root trust, no revocation check)
    /// and its name matches the address dialled.
    /// </summary>
    public static bool ValidateServerCertificate(X509Certificate? certificate, SslPolicyErrors errors, X509Certificate2 ca) =>
        ServerTrust.ValidateServer(certificate, errors, ca);

    private static X509ChainPolicy PackageCaPolicy(X509Certificate2 ca)
    {
        var policy = new X509ChainPolicy
        {
            TrustMode = X509ChainTrustMode.CustomRootTrust,
            RevocationMode = X509RevocationMode.NoCheck,
            DisableCertificateDownloads = true,
        };
        policy.CustomTrustStore.Add(ca);
        return policy;
    }

    /// <summary>
    /// The one copy of a CA's PEM text in this process: an identity keeps the CA it registered with, and thousands of agents in one
    /// simulator (or an agent that registers again) need not each hold their own copy of the same text.
    /// </summary>
    public static string ShareCaPem(string caPem) => GetTrust(caPem).Pem;

    /// <summary>What trusting a CA takes (its certificate, the chain policy, the server check), shared process-wide.</summary>
    private static PackageTrust GetTrust(string caPem)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(caPem);
        return _trustByPem.GetOrAdd(caPem, static pem => new PackageTrust(pem));
    }

    /// <summary>One CA's trust, immutable once built: the handlers of every agent that trusts it share it.</summary>
    private sealed class PackageTrust
    {
        public PackageTrust(string pem)
        {
            Pem = pem;
            var ca = X509Certificate2.CreateFromPem(pem);
            Ca = ca;
            ChainPolicy = PackageCaPolicy(ca);
            Validate = (_, certificate, _, errors) => ValidateServerCertificate(certificate, errors, ca);
        }

        public string Pem { get; }

        public X509Certificate2 Ca { get; }

        public X509ChainPolicy ChainPolicy { get; }

        public RemoteCertificateValidationCallback Validate { get; }
    }

    /// <summary>The client certificate with its private key, usable by TLS on every platform.</summary>
    public static X509Certificate2 LoadClientCertificate(string certificatePem, string privateKeyPem)
    {
        var certificate = X509Certificate2.CreateFromPem(certificatePem, privateKeyPem);
        if (!OperatingSystem.IsWindows())
        {
            return certificate;
        }

        // SChannel cannot use an ephemeral key: round-trip through PKCS#12 to get a persisted one.
        using (certificate)
        {
            return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null);
        }
    }

    public void Dispose()
    {
        Invoker.Dispose();
        ChannelInvoker.Dispose();
        _handler.Dispose();
        _channelHandler.Dispose();
        _clientCertificate?.Dispose();
    }

    private static bool IsJson(System.Net.Http.HttpResponseMessage response) =>
        response.Content.Headers.ContentType?.MediaType is not { } media || media.Contains("json", StringComparison.OrdinalIgnoreCase);

    private static string Quote(string etag) => etag.StartsWith('"') ? etag : $"\"{etag}\"";

    private static string Unquote(string tag) => tag.Length >= 2 && tag[0] == '"' && tag[^1] == '"' ? tag[1..^1] : tag;
}

/// <summary>The negotiated TLS of a connection and the server's certificate, for the Network Status panel.</summary>
internal sealed record TlsInfo(string Protocol, string CipherSuite, Tcm.Protocol.Admin.CertificateInfo? Certificate = null);

/// <summary>An answer from the server, over HTTP or as an <c>http.response</c> over the channel.</summary>
internal readonly record struct AgentResponse(int Status, string? ETag, string? Refusal, JsonElement? Body)
{
    public bool IsSuccess => Status is >= 200 and < 300;

    /// <summary>The refusal code: the <c>X-Tcm-Refusal</c> header, else the <see cref="ErrorBody"/> code.</summary>
    public string? ErrorCode => Refusal ?? (Status >= 400 ? TryRead(ProtocolJsonContext.Default.ErrorBody)?.Code : null);

    /// <summary>The <see cref="ErrorBody"/> detail, when there is one.</summary>
    public string? ErrorDetail => Status >= 400 ? TryRead(ProtocolJsonContext.Default.ErrorBody)?.Detail : null;

    /// <summary>The body as <typeparamref name="T"/>; throws <see cref="AgentProtocolException"/> when missing or malformed.</summary>
    public T Read<T>(JsonTypeInfo<T> typeInfo) where T : class =>
        TryRead(typeInfo) ?? throw new AgentProtocolException($"expected a {typeof(T).Name} body in the HTTP {Status} answer");

    /// <summary>The body as <typeparamref name="T"/>, or null when missing or malformed.</summary>
    public T? TryRead<T>(JsonTypeInfo<T> typeInfo) where T : class
    {
        if (Body is not { ValueKind: JsonValueKind.Object or JsonValueKind.Array } body)
        {
            return null;
        }

        try
        {
            return body.Deserialize(typeInfo);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Throws for an unknown agent (403 unknown-agent) and for any other non-success status.</summary>
    public AgentResponse EnsureSuccess(string what)
    {
        if (Status == 403 && ErrorCode == CloseReasons.UnknownAgent)
        {
            throw new UnknownAgentException($"{what}: the server does not know this agent (403 {CloseReasons.UnknownAgent})");
        }

        if (!IsSuccess && Status != 304)
        {
            throw new AgentProtocolException($"{what}: HTTP {Status}{(ErrorCode is { } code ? $" {code}" : "")}{(ErrorDetail is { } detail ? $": {detail}" : "")}");
        }

        return this;
    }
}

/// <summary>The server answered, but not as the contract says it should (an error status, a missing body).</summary>
internal class AgentProtocolException(string message) : Exception(message);

/// <summary>The server does not know the agent's id: the agent must register again with its install package.</summary>
internal sealed class UnknownAgentException(string message) : AgentProtocolException(message);
