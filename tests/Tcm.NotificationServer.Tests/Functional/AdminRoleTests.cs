using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Tcm.NotificationServer.Admin;

namespace Tcm.NotificationServer.Tests.Functional;

/// <summary>
/// Admin keys with roles on a real Notification Server: every admin endpoint refuses a role below its own with 403 and the
/// reason, the keys are kept hashed and checked once, a revoked key (and its console session) is refused at once.
/// </summary>
public sealed class AdminRoleTests
{
    [Fact]
    public async Task Every_admin_endpoint_refuses_the_roles_below_its_own_with_403_and_the_reason()
    {
        await using var server = await NotificationServerHost.StartAsync();
        using var viewer = server.CreateAdminClient((await server.AddAdminKeyAsync("eve", AdminRole.Viewer)).Key);
        using var @operator = server.CreateAdminClient((await server.AddAdminKeyAsync("oscar", AdminRole.Operator)).Key);
        var endpoints = AdminEndpoints(server);
        endpoints.Should().Contain(("PUT", "/settings")).And.Contain(("POST", "/actions/task")).And.Contain(("POST", "/keys")).And.Contain(("GET", "/audit"));

        foreach (var (method, route) in endpoints)
        {
            var needs = ExpectedRole(method, route);
            foreach (var (client, role, name) in new[] { (viewer, AdminRole.Viewer, "eve"), (@operator, AdminRole.Operator, "oscar") })
            {
                using var request = new System.Net.Http.HttpRequestMessage(new HttpMethod(method), TcmPaths.Admin + Fill(route));
                if (method is "POST" or "PUT")
                {
                    request.Content = new StringContent("{}", System.Text.Encoding.UTF8, "application/json");
                }

                using var response = await client.SendAsync(request, System.Net.Http.HttpCompletionOption.ResponseHeadersRead);
                if (role >= needs)
                {
                    response.StatusCode.Should().NotBe(HttpStatusCode.Forbidden, $"{method} {route} is for {needs}s and up, {name} is a{(role == AdminRole.Operator ? "n" : "")} {role}");
                    continue;
                }

                response.StatusCode.Should().Be(HttpStatusCode.Forbidden, $"{method} {route} needs {needs}, {name} is {role}");
                response.Headers.GetValues("X-Tcm-Refusal").Should().Equal(AdminKeyFilter.RoleForbidden);
                var error = (await response.Content.ReadFromJsonAsync(ProtocolJsonContext.Default.ErrorBody))!;
                error.Code.Should().Be("role-forbidden");
                error.Detail.Should().Contain($"'{name}'").And.Contain($"needs the role {needs.ToString().ToLowerInvariant()}").And.Contain(route);
            }
        }
    }

    [Fact]
    public async Task An_operator_runs_actions_and_terminates_but_changes_no_setting_and_a_viewer_changes_nothing()
    {
        await using var connected = await ConnectedAgent.StartAsync();
        var server = connected.Server;
        using var viewer = server.CreateAdminClient((await server.AddAdminKeyAsync("eve", AdminRole.Viewer)).Key);
        using var @operator = server.CreateAdminClient((await server.AddAdminKeyAsync("oscar", AdminRole.Operator)).Key);
        var task = new PushTaskRequest { Command = "echo", Targets = Targets.Everyone };

        (await viewer.PostAsJsonAsync("/tcm/admin/actions/task", task, ProtocolJsonContext.Default.PushTaskRequest)).StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await viewer.PostAsync($"/tcm/admin/agents/{connected.Agent.Id}/terminate", null)).StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await viewer.GetFromJsonAsync($"/tcm/admin/agents/{connected.Agent.Id}", ProtocolJsonContext.Default.AgentInfo))!.Connected.Should().BeTrue("a viewer reads");
        (await viewer.GetAsync("/metrics")).StatusCode.Should().Be(HttpStatusCode.OK, "a viewer's key reads the Prometheus metrics too");

        (await @operator.PostAsJsonAsync("/tcm/admin/actions/task", task, ProtocolJsonContext.Default.PushTaskRequest)).StatusCode.Should().Be(HttpStatusCode.Created);
        (await @operator.PutAsJsonAsync("/tcm/admin/settings", new ServerSettings { TcmEnabled = false }, ProtocolJsonContext.Default.ServerSettings)).StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await @operator.GetAsync("/tcm/admin/keys")).StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await @operator.PostAsync($"/tcm/admin/agents/{connected.Agent.Id}/terminate", null)).StatusCode.Should().Be(HttpStatusCode.NoContent);
        await connected.Channel.ShouldBeClosedAsync(WebSocketCloseStatus.NormalClosure, CloseReasons.Terminated);
        (await server.AdminGetAsync("/settings", ProtocolJsonContext.Default.ServerSettings)).TcmEnabled.Should().BeTrue("the operator's change of settings was refused");
    }

    [Fact]
    public async Task Keys_are_stored_as_slow_hashes_checked_once_and_a_revoked_key_is_refused_at_once()
    {
        await using var server = await NotificationServerHost.StartAsync();
        var created = await server.AddAdminKeyAsync("ci-pipeline", AdminRole.Viewer);
        created.Key.Should().StartWith($"tcm_{created.Info.Id}_");
        using var client = server.CreateAdminClient(created.Key);
        var ring = server.Services.GetRequiredService<AdminKeyRing>();
        var checks = ring.HashChecks;

        for (var i = 0; i < 5; i++)
        {
            (await client.GetAsync("/tcm/admin/fleet")).StatusCode.Should().Be(HttpStatusCode.OK);
        }

        ring.HashChecks.Should().Be(checks + 1, "the first call pays the slow hash, the others use its cached verdict");
        using (var wrong = server.CreateAdminClient(created.Key[..^4] + "AAAA"))
        {
            (await wrong.GetAsync("/tcm/admin/fleet")).StatusCode.Should().Be(HttpStatusCode.Unauthorized, "the id matches, the secret does not");
        }

        var secret = created.Key[(created.Key.LastIndexOf('_') + 1)..];
        var row = StoredKey(server, created.Info.Id);
        row.OfType<string>().Should().NotContain(s => s.Contains(secret, StringComparison.Ordinal));
        ((byte[])row[1]!).Should().HaveCount(32, "a PBKDF2-SHA256 hash");
        Convert.ToInt64(row[2], System.Globalization.CultureInfo.InvariantCulture).Should().BeGreaterThanOrEqualTo(100_000);

        (await server.Admin.DeleteAsync("/tcm/admin/keys/ci-pipeline")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await client.GetAsync("/tcm/admin/fleet")).StatusCode.Should().Be(HttpStatusCode.Unauthorized, "its cached verdict no longer counts");
        var keys = await server.AdminGetAsync("/keys", ProtocolJsonContext.Default.IReadOnlyListAdminKeyInfo);
        keys.Select(k => (k.Name, k.BuiltIn, k.RevokedBy)).Should().Equal(("admin.key", true, null), ("ci-pipeline", false, "admin.key"));
    }

    [Fact]
    public async Task Key_management_refuses_with_clear_reasons()
    {
        await using var server = await NotificationServerHost.StartAsync();
        await server.AddAdminKeyAsync("ops", AdminRole.Operator);

        await Refused(server.Admin.PostAsJsonAsync("/tcm/admin/keys", new CreateAdminKeyRequest { Name = "OPS", Role = AdminRole.Viewer }, ProtocolJsonContext.Default.CreateAdminKeyRequest),
            HttpStatusCode.Conflict, "exists already");
        await Refused(server.Admin.PostAsJsonAsync("/tcm/admin/keys", new CreateAdminKeyRequest { Name = " ", Role = AdminRole.Viewer }, ProtocolJsonContext.Default.CreateAdminKeyRequest),
            HttpStatusCode.BadRequest, "name:");
        await Refused(server.Admin.PostAsync("/tcm/admin/keys", new StringContent("""{"name":"x","role":"boss"}""", System.Text.Encoding.UTF8, "application/json")),
            HttpStatusCode.BadRequest, "body:");
        await Refused(server.Admin.DeleteAsync("/tcm/admin/keys/admin.key"), HttpStatusCode.Conflict, "first administrator key");
        await Refused(server.Admin.DeleteAsync("/tcm/admin/keys/nobody"), HttpStatusCode.NotFound, "nobody");
        (await server.Admin.DeleteAsync("/tcm/admin/keys/ops")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        await Refused(server.Admin.DeleteAsync("/tcm/admin/keys/ops"), HttpStatusCode.Conflict, "was revoked");
        await Refused(server.Admin.PostAsJsonAsync("/tcm/admin/keys", new CreateAdminKeyRequest { Name = "ops", Role = AdminRole.Viewer }, ProtocolJsonContext.Default.CreateAdminKeyRequest),
            HttpStatusCode.Conflict, "names are not reused");
    }

    [Fact]
    public async Task A_console_session_carries_its_keys_role_and_ends_with_the_key()
    {
        await using var server = await NotificationServerHost.StartAsync();
        var viewer = await server.AddAdminKeyAsync("eve", AdminRole.Viewer);
        var cookies = new CookieContainer();
        using var browser = server.CreateClient(cookies: cookies);
        using var login = new System.Net.Http.HttpRequestMessage(HttpMethod.Post, "/console/api/login") { Content = JsonContent.Create(new { key = viewer.Key }) };
        login.Headers.Add("X-Tcm-Console", "1");
        (await browser.SendAsync(login)).StatusCode.Should().Be(HttpStatusCode.NoContent);
        browser.DefaultRequestHeaders.Add("X-Tcm-Console", "1");

        (await browser.GetFromJsonAsync("/tcm/admin/whoami", ProtocolJsonContext.Default.AdminIdentity)).Should().Be(new AdminIdentity("eve", AdminRole.Viewer));
        var change = await browser.PutAsJsonAsync("/tcm/admin/settings", new ServerSettings { TcmEnabled = true }, ProtocolJsonContext.Default.ServerSettings);
        change.StatusCode.Should().Be(HttpStatusCode.Forbidden);
        (await change.Content.ReadFromJsonAsync(ProtocolJsonContext.Default.ErrorBody))!.Code.Should().Be("role-forbidden");

        (await server.Admin.DeleteAsync("/tcm/admin/keys/eve")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await browser.GetAsync("/tcm/admin/whoami")).StatusCode.Should().Be(HttpStatusCode.Unauthorized, "the session of a revoked key ends with it");
    }

    /// <summary>The role the brief gives each endpoint: operators run actions (and cancel them) and terminate; keys are for administrators.</summary>
    private static AdminRole ExpectedRole(string method, string route) =>
        method == "GET" ? (route.StartsWith("/keys", StringComparison.Ordinal) ? AdminRole.Administrator : AdminRole.Viewer)
        : route.StartsWith("/actions", StringComparison.Ordinal) || route == "/agents/{id}/terminate" ? AdminRole.Operator
        : AdminRole.Administrator;

    private static List<(string Method, string Route)> AdminEndpoints(NotificationServerHost server) =>
    [
        .. server.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText?.StartsWith(TcmPaths.Admin + "/", StringComparison.Ordinal) == true)
            .SelectMany(e => (e.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.HttpMethodMetadata>()?.HttpMethods ?? ["GET"]).Select(m => (m, e.RoutePattern.RawText![TcmPaths.Admin.Length..])))
            .Distinct(),
    ];

    private static string Fill(string route) => System.Text.RegularExpressions.Regex.Replace(route, @"\{[^}]+\}", "x");

    private static object?[] StoredKey(NotificationServerHost server, string id)
    {
        // why: read through the server's own store, whichever engine it is on, not through the admin API that hides these columns.
        using var connection = server.OpenStore();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT name, hash, iterations, salt, role FROM admin_keys WHERE id=@id";
        var parameter = command.CreateParameter();
        parameter.ParameterName = "id";
        parameter.Value = id;
        command.Parameters.Add(parameter);
        using var reader = command.ExecuteReader();
        reader.Read().Should().BeTrue();
        var values = new object?[reader.FieldCount];
        reader.GetValues(values!);
        return values;
    }

    private static async Task Refused(Task<System.Net.Http.HttpResponseMessage> call, HttpStatusCode status, string detail)
    {
        using var response = await call;
        response.StatusCode.Should().Be(status);
        (await response.Content.ReadFromJsonAsync(ProtocolJsonContext.Default.ErrorBody))!.Detail.Should().Contain(detail);
    }
}
