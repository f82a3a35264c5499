using System.Text.Json.Serialization.Metadata;

namespace Tcm.Functional.Tests.Nodes;

/// <summary>The admin API calls the node tests make, on a node's <see cref="NsNode.Admin"/> client; an answer that is not a success fails with its body.</summary>
internal static class NodeAdmin
{
    private static ProtocolJsonContext Json => ProtocolJsonContext.Default;

    /// <summary>Creates or replaces a communication profile.</summary>
    public static async Task PutProfileAsync(this HttpClient admin, CommunicationProfile profile) =>
        (await SendAsync(admin, HttpMethod.Put, $"/profiles/{profile.Id}", JsonContent.Create(profile, Json.CommunicationProfile))).Dispose();

    /// <summary>The built-in profile named Default.</summary>
    public static async Task<CommunicationProfile> GetDefaultProfileAsync(this HttpClient admin) =>
        (await GetAsync(admin, "/profiles", Json.IReadOnlyListCommunicationProfile)).Single(p => p.Name == "Default");

    /// <summary>Pushes a task; the action is stored (and its pushes with it) when this returns.</summary>
    public static async Task<ActionCreated> PushTaskAsync(this HttpClient admin, PushTaskRequest request)
    {
        using var response = await SendAsync(admin, HttpMethod.Post, "/actions/task", JsonContent.Create(request, Json.PushTaskRequest));
        return (await response.Content.ReadFromJsonAsync(Json.ActionCreated))!;
    }

    /// <summary>An action and its targets, as the node reads them from the shared store.</summary>
    public static Task<ActionStatus> GetActionAsync(this HttpClient admin, string actionId) => GetAsync(admin, $"/actions/{actionId}", Json.ActionStatus);

    /// <summary>Every agent the node knows (up to 1,000), with the node that holds each.</summary>
    public static async Task<IReadOnlyList<AgentInfo>> ListAgentsAsync(this HttpClient admin) =>
        (await GetAsync(admin, "/agents?take=1000", Json.AgentPage)).Items;

    private static async Task<T> GetAsync<T>(HttpClient admin, string path, JsonTypeInfo<T> type)
    {
        using var response = await SendAsync(admin, HttpMethod.Get, path, content: null);
        return (await response.Content.ReadFromJsonAsync(type))!;
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient admin, HttpMethod method, string path, HttpContent? content)
    {
        using var request = new HttpRequestMessage(method, TcmPaths.Admin + path) { Content = content };
        var response = await admin.SendAsync(request);
        if (!response.IsSuccessStatusCode)
        {
            var body = await response.Content.ReadAsStringAsync();
            response.Dispose();
            throw new HttpRequestException($"{method} {path} at {admin.BaseAddress} answered {(int)response.StatusCode}: {body}", null, response.StatusCode);
        }

        return response;
    }
}
