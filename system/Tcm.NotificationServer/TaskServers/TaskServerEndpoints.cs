using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Tcm.NotificationServer.Actions;
using Tcm.NotificationServer.Admin;
using Tcm.NotificationServer.AgentEndpoints;
using Tcm.NotificationServer.Agents;
using Tcm.NotificationServer.Delivery;
using Tcm.NotificationServer.Policy;
using Tcm.NotificationServer.SiteServerApi;
using Tcm.NotificationServer.SiteServers;
using Tcm.NotificationServer.Store;
using Tcm.Protocol.Admin;
using static Tcm.NotificationServer.Admin.AdminResults;

namespace Tcm.NotificationServer.TaskServers;

/// <summary>
/// The Task Servers' endpoints under <c>/tcm/site/ts</c> (site-server certificate of kind task-server) and the admin API for tasks
/// through Task Servers: <c>POST /tcm/admin/actions/ts-task</c>, <c>GET /tcm/admin/task-servers</c>,
/// <c>GET/PUT /tcm/admin/task-servers/selection</c>.
/// </summary>
internal static partial class TaskServerEndpoints
{
    public static IServiceCollection AddTaskServerSupport(this IServiceCollection services) => services.AddSingleton<TaskServerCounts>().AddSingleton<TaskServerRegistry>();

    public static void MapTaskServerSupport(this IEndpointRouteBuilder endpoints)
    {
        _ = endpoints.ServiceProvider.GetRequiredService<TaskServerRegistry>();
        endpoints.MapPost(TaskServerPaths.Report, ReportAsync).ExcludeFromDescription();
        endpoints.MapGet(TaskServerPaths.Work, WorkAsync).ExcludeFromDescription();
        endpoints.MapPost(TaskServerPaths.Accepted, AcceptedAsync).ExcludeFromDescription();
        endpoints.MapPost(TaskServerPaths.Status, StatusAsync).ExcludeFromDescription();
        endpoints.MapPost(TaskServerPaths.Results, ResultsAsync).ExcludeFromDescription();

        var admin = endpoints.MapGroup(TcmPaths.Admin).AddEndpointFilter<AdminKeyFilter>().WithTags("Task Servers");
        admin.MapGet("/task-servers", (TaskServerRegistry registry) => Ok(registry.List(), ProtocolJsonContext.Default.IReadOnlyListTaskServerInfoView))
            .WithName("ListTaskServers").WithSummary("Registered Task Servers with their agent counts.").Produces<IReadOnlyList<TaskServerInfoView>>();

        admin.MapGet("/task-servers/selection", (TaskServerRegistry registry) => Ok(registry.Selection, ProtocolJsonContext.Default.TaskServerSelectionSettings))
            .WithName("GetTaskServerSelection").WithSummary("How agents choose their Task Server.").Produces<TaskServerSelectionSettings>();

        admin.MapPolicyInput("/task-servers/selection", ProtocolJsonContext.Default.TaskServerSelectionSettings, static services => services.GetRequiredService<TaskServerRegistry>().Selection, static async (services, selection, ct) =>
        {
            var registry = services.GetRequiredService<TaskServerRegistry>();
            await registry.SetSelectionAsync(selection, ct);
            return registry.Selection;
        })
            .WithName("PutTaskServerSelection").WithSummary("Sets the selection method (fewest-computers, available-capacity, fastest-connection, ordered-list) and the ordered list per site; connected agents get their new policy at once.");

        admin.MapAction("/actions/ts-task", ProtocolJsonContext.Default.PushTaskRequest, static task => task.Waves is null ? AdminValidation.Validate(task)
            : "waves: a task through the Task Servers goes to all its targets at once; POST /tcm/admin/actions/task sends one in waves", static async (services, task, actionId, ct) =>
        {
            var now = services.GetRequiredService<TimeProvider>().GetUtcNow();
            var agents = services.GetRequiredService<AgentDirectory>().All.Where(a => TargetMatcher.Matches(task.Targets, a)).ToList();
            var handed = await services.GetRequiredService<TaskServerRegistry>().AddTasksAsync(actionId, agents, agent => task.ToAssignment(actionId, agent.Id, now), TcmStore.Serialize(task, ProtocolJsonContext.Default.PushTaskRequest), ct);
            services.GetRequiredService<ActionExpiry>().Schedule(task.NotAfter);
            return new ActionCreated(actionId, TaskServerActionKinds.TsTask, agents.Count, handed);
        })
            .WithName("PushTaskThroughTaskServers").WithSummary("Pushes a task to the targeted agents through the Task Servers that hold them (their Client Task Agents); status at GET /tcm/admin/actions/{id}.");
    }

    private static async Task ReportAsync(HttpContext context)
    {
        if (await AuthenticateAsync(context) is not { } server)
        {
            return;
        }

        if (await ReadBodyAsync(context, ProtocolJsonContext.Default.TaskServerReport) is not { } report)
        {
            return;
        }

        await context.RequestServices.GetRequiredService<TaskServerRegistry>().ReportAsync(server, report, context.RequestAborted);
        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    private static async Task WorkAsync(HttpContext context)
    {
        if (await AuthenticateAsync(context) is not { } server)
        {
            return;
        }

        if (await SiteRequests.ReadWaitAsync(context) is not { } wait)
        {
            return;
        }

        var registry = context.RequestServices.GetRequiredService<TaskServerRegistry>();
        var time = context.RequestServices.GetRequiredService<TimeProvider>();
        var state = registry.Get(server);
        // why: a long poll must not hold up the NS's shutdown; the TS just polls again (and re-reports) when the NS is back.
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(
            context.RequestAborted, context.RequestServices.GetRequiredService<Microsoft.Extensions.Hosting.IHostApplicationLifetime>().ApplicationStopping);
        state.BeginPoll();
        registry.ConfirmCancels(state);
        try
        {
            var deadline = time.GetUtcNow().AddSeconds(wait);
            TaskServerWork work;
            while (true)
            {
                registry.Contacted(state);
                work = registry.TakeWork(state);
                var left = deadline - time.GetUtcNow();
                if (work.Tasks.Count > 0 || work.Released.Count > 0 || work.Cancelled.Count > 0 || left <= TimeSpan.Zero)
                {
                    break;
                }

                try
                {
                    await state.Signal.WaitAsync(left, time, stopping.Token);
                }
                catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
                {
                    return;
                }
                catch (OperationCanceledException)
                {
                    work = new TaskServerWork();
                    break;
                }
            }

            // why: a Task Server of today reads a fan-out as one task and its agents; one of before gets a task per agent.
            if (context.Request.Query[TaskServerPaths.WorkGroupsQuery] == "1")
            {
                work = work.Grouped();
            }

            await AgentHttpEndpoints.WriteAsync(context, AgentApiResponse.Json(200, work, ProtocolJsonContext.Default.TaskServerWork));
        }
        finally
        {
            state.EndPoll();
        }
    }

    private static async Task AcceptedAsync(HttpContext context)
    {
        if (await AuthenticateAsync(context) is not { } server || await ReadBodyAsync(context, ProtocolJsonContext.Default.TaskServerAccepted) is not { } accepted)
        {
            return;
        }

        var registry = context.RequestServices.GetRequiredService<TaskServerRegistry>();
        await registry.AcceptAsync(registry.Get(server), accepted.Items, context.RequestAborted);
        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    private static async Task StatusAsync(HttpContext context)
    {
        if (await AuthenticateAsync(context) is null || await ReadBodyAsync(context, ProtocolJsonContext.Default.TaskServerStatusBatch) is not { } batch)
        {
            return;
        }

        context.RequestServices.GetRequiredService<TaskServerRegistry>().RecordStatus(batch.Items);
        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    private static async Task ResultsAsync(HttpContext context)
    {
        if (await AuthenticateAsync(context) is not { } server || await ReadBodyAsync(context, ProtocolJsonContext.Default.TaskServerResultBatch) is not { } batch)
        {
            return;
        }

        var services = context.RequestServices;
        var directory = services.GetRequiredService<AgentDirectory>();
        var delivery = services.GetRequiredService<DeliveryService>();
        var registry = services.GetRequiredService<TaskServerRegistry>();
        var logger = services.GetRequiredService<ILogger<TaskServerRegistry>>();
        var receipts = new List<ResultReceipt>(batch.Items.Count);
        var refused = new List<string>();

        // why: first, so a task's status is queued before its result's write (the writer commits in order).
        if (batch.Statuses is { Count: > 0 } statuses)
        {
            registry.RecordStatus(statuses);
        }

        // why: stored together, not one after another: the store's batching writer then commits the whole batch in a few
        // transactions instead of one per result (a fan-out's results arrive here by the hundred).
        var stores = new List<(TaskServerResultItem Item, string Key, string AgentId, Task<ResultReceipt> Stored)>(batch.Items.Count);
        foreach (var item in batch.Items)
        {
            var key = item.Result switch
            {
                TaskResultMessage t => t.IdempotencyKey,
                InventoryResultMessage i => i.IdempotencyKey,
                _ => "",
            };
            if (!directory.TryGet(item.AgentId, out var agent))
            {
                Log.ResultRefused(logger, server.Name, key, $"unknown agent '{item.AgentId}'");
                refused.Add(key);
                continue;
            }

            Task<ResultReceipt> stored;
            try
            {
                stored = delivery.StoreResultAsync(agent, item.Result, context.RequestAborted, Delivered(item, agent.Id));
            }
            catch (ArgumentException ex)
            {
                stored = Task.FromException<ResultReceipt>(ex);
            }

            stores.Add((item, key, agent.Id, stored));
        }

        var forgotten = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (item, key, agentId, stored) in stores)
        {
            try
            {
                receipts.Add(await stored);
                if (item.Result is TaskResultMessage task)
                {
                    registry.Forget(agentId, task.TaskId);
                    forgotten.Add(task.TaskId);
                }
            }
            catch (ArgumentException ex)
            {
                Log.ResultRefused(logger, server.Name, key, ex.Message);
                refused.Add(key);
            }
        }

        registry.TellOthers(forgotten);
        await AgentHttpEndpoints.WriteAsync(context, AgentApiResponse.Json(200, new TaskServerResultReceipts { Receipts = receipts, Refused = refused }, ProtocolJsonContext.Default.TaskServerResultReceipts));
    }

    /// <summary>The delivery a result carried (its push acknowledged with it at the Task Server), as the target's progress.</summary>
    private static TargetProgress? Delivered(TaskServerResultItem item, string agentId) =>
        item.Delivered is { } delivered && ResultTaskId(item.Result) is { } taskId
            ? new TargetProgress(taskId, agentId, TaskState.Delivered, delivered.Via, delivered.At.ToUnixTimeMilliseconds())
            : null;

    private static string? ResultTaskId(Message result) => result switch
    {
        TaskResultMessage task => task.TaskId,
        InventoryResultMessage inventory => inventory.RequestId,
        _ => null,
    };

    private static Task<SiteServerRecord?> AuthenticateAsync(HttpContext context) => SiteRequests.AuthenticateAsync(context, SiteServerKind.TaskServer);

    private static async Task<T?> ReadBodyAsync<T>(HttpContext context, JsonTypeInfo<T> typeInfo)
        where T : class
    {
        string? problem = null;
        T? value = null;
        try
        {
            value = await JsonSerializer.DeserializeAsync(context.Request.Body, typeInfo, context.RequestAborted);
        }
        catch (JsonException ex)
        {
            problem = ex.Message;
        }

        if (value is null)
        {
            await AgentHttpEndpoints.WriteAsync(context, AgentApiResponse.Error(400, "bad-request", $"body: not a valid {typeof(T).Name}{(problem is null ? "" : ": " + problem)}"));
        }

        return value;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 730, Level = LogLevel.Warning, Message = "Task Server '{Server}' forwarded result {Key} that is refused: {Reason}")]
        public static partial void ResultRefused(ILogger logger, string server, string key, string reason);
    }
}
