using System.Net;
using System.Text;
using HttpRequestMessage = System.Net.Http.HttpRequestMessage;
using HttpResponseMessage = System.Net.Http.HttpResponseMessage;

namespace Tcm.Console.Tests;

/// <summary>The console's session and CSRF rules, over plain HTTPS (no browser needed).</summary>
public sealed class ConsoleAuthTests(ITestOutputHelper output) : IAsyncLifetime
{
    private NotificationServerHost _server = null!;

    public async Task InitializeAsync() => _server = await NotificationServerHost.StartAsync(output, configure: o => o.ServerName = "NS-CONSOLE-TEST");

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Console_page_redirects_to_login_without_a_session_and_files_carry_a_strict_policy()
    {
        using var anonymous = _server.CreateClient();

        var page = await anonymous.GetAsync("/console/");
        page.StatusCode.Should().Be(HttpStatusCode.Redirect);
        page.Headers.Location!.ToString().Should().Be("/console/login");

        var login = await anonymous.GetAsync("/console/login");
        login.StatusCode.Should().Be(HttpStatusCode.OK);
        login.Content.Headers.ContentType!.MediaType.Should().Be("text/html");
        login.Headers.GetValues("Content-Security-Policy").Single().Should().Contain("script-src 'self'").And.Contain("frame-ancestors 'none'");

        var script = await anonymous.GetAsync("/console/assets/js/app.js");
        script.StatusCode.Should().Be(HttpStatusCode.OK);
        script.Content.Headers.ContentType!.MediaType.Should().Be("text/javascript");
        using var again = new HttpRequestMessage(HttpMethod.Get, "/console/assets/js/app.js");
        again.Headers.TryAddWithoutValidation("If-None-Match", script.Headers.ETag!.ToString());
        (await anonymous.SendAsync(again)).StatusCode.Should().Be(HttpStatusCode.NotModified);

        (await anonymous.GetAsync("/console/api/feed")).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        (await anonymous.GetAsync("/tcm/admin/settings")).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Login_sets_a_secure_httponly_strict_cookie_that_the_admin_api_accepts_with_the_console_header()
    {
        var cookies = new CookieContainer();
        using var browser = _server.CreateClient(cookies: cookies);

        (await Login(browser, _server.Info.AdminApiKey, header: false)).StatusCode.Should().Be(HttpStatusCode.Forbidden, "login needs the console header (login CSRF)");
        (await Login(browser, "not-the-key", header: true)).StatusCode.Should().Be(HttpStatusCode.Unauthorized);

        var ok = await Login(browser, _server.Info.AdminApiKey, header: true);
        ok.StatusCode.Should().Be(HttpStatusCode.NoContent);
        var setCookie = ok.Headers.GetValues("Set-Cookie").Single();
        setCookie.Should().StartWith("__Host-tcm-console=");
        setCookie.ToLowerInvariant().Should().Contain("secure").And.Contain("httponly").And.Contain("samesite=strict").And.Contain("path=/");

        (await browser.GetAsync("/console/")).StatusCode.Should().Be(HttpStatusCode.OK);
        (await browser.GetAsync("/tcm/admin/settings")).StatusCode.Should().Be(HttpStatusCode.OK);

        var withoutHeader = await browser.PutAsJsonAsync("/tcm/admin/settings", new ServerSettings { TcmEnabled = true }, ProtocolJsonContext.Default.ServerSettings);
        withoutHeader.StatusCode.Should().Be(HttpStatusCode.Forbidden, "a state-changing request with only the cookie could come from another site");
        (await withoutHeader.Content.ReadAsStringAsync()).Should().Contain("console-header-required");

        using var put = new HttpRequestMessage(HttpMethod.Put, "/tcm/admin/settings")
        {
            Content = JsonContent.Create(new ServerSettings { TcmEnabled = true }, ProtocolJsonContext.Default.ServerSettings),
        };
        put.Headers.Add("X-Tcm-Console", "1");
        (await browser.SendAsync(put)).StatusCode.Should().Be(HttpStatusCode.OK);

        using var logout = new HttpRequestMessage(HttpMethod.Post, "/console/api/logout");
        logout.Headers.Add("X-Tcm-Console", "1");
        (await browser.SendAsync(logout)).StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await browser.GetAsync("/tcm/admin/settings")).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Feed_sends_a_fleet_snapshot_at_once_and_then_every_second()
    {
        using var client = _server.CreateAdminClient();
        using var response = await client.GetAsync("/console/api/feed", HttpCompletionOption.ResponseHeadersRead);
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.Should().Be("text/event-stream");

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cts.Token), Encoding.UTF8);
        var events = new List<string>();
        while (events.Count < 2)
        {
            var line = await reader.ReadLineAsync(cts.Token);
            if (line is null)
            {
                break;
            }

            if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                events.Add(line["data: ".Length..]);
            }
        }

        events.Should().HaveCount(2);
        events[0].Should().Contain("\"fleet\":{\"total\":0").And.Contain("\"serverName\":\"NS-CONSOLE-TEST\"").And.Contain("\"tcmEnabled\":false");
    }

    private static async Task<HttpResponseMessage> Login(HttpClient client, string key, bool header)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/console/api/login") { Content = new StringContent($"{{\"key\":\"{key}\"}}", Encoding.UTF8, "application/json") };
        if (header)
        {
            request.Headers.Add("X-Tcm-Console", "1");
        }

        return await client.SendAsync(request);
    }
}
