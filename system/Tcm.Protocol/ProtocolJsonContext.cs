using System.Text.Json;
using System.Text.Json.Serialization;
using Tcm.Protocol.Admin;

namespace Tcm.Protocol;

/// <summary>Source-generated System.Text.Json metadata for every TCM contract (camelCase, nulls omitted).</summary>
/// <remarks>
/// Contract properties that have a documented default are <c>set</c>, not <c>init</c>: the source generator assigns every
/// init-only property in an object initializer, so an omitted one would get the CLR default instead of the documented one
/// (dotnet/runtime#84484). <c>ContractDefaultsTests</c> guards this.
/// The messages of every task (<see cref="TaskPushMessage"/>, <see cref="TaskStatusMessage"/>, <see cref="TaskResultMessage"/>,
/// <see cref="AckMessage"/>) have settable properties, their required ones marked <see cref="JsonRequiredAttribute"/> rather than C#'s
/// <c>required</c>: a <c>required</c> or <c>init</c> member puts the type on the serializer's parameterized-constructor path (every value
/// boxed into an argument array, then the object built), which was a quarter of a 2,000-agent load generator's allocations; on the
/// plain path a push or a result missing a required field is still refused with the serializer's own error
/// (<c>PerTaskMessageTests</c> guards both).
/// </remarks>
[JsonSourceGenerationOptions(
    JsonSerializerDefaults.Web,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    AllowOutOfOrderMetadataProperties = true,
    UseStringEnumConverter = true,
    RespectNullableAnnotations = true,
    RespectRequiredConstructorParameters = true)]
[JsonSerializable(typeof(Message))]
[JsonSerializable(typeof(InstallPackage))]
[JsonSerializable(typeof(RegisterRequest))]
[JsonSerializable(typeof(RegisterResponse))]
[JsonSerializable(typeof(PolicyDocument))]
[JsonSerializable(typeof(EventBatch))]
[JsonSerializable(typeof(BasicInventory))]
[JsonSerializable(typeof(PendingPushes))]
[JsonSerializable(typeof(ResultReceipt))]
[JsonSerializable(typeof(ErrorBody))]
[JsonSerializable(typeof(CreateSiteServerRequest))]
[JsonSerializable(typeof(SiteServerCreated))]
[JsonSerializable(typeof(SiteServerRegisterRequest))]
[JsonSerializable(typeof(SiteServerRegisterResponse))]
[JsonSerializable(typeof(SiteServerInfo))]
[JsonSerializable(typeof(ProfileChecks))]
[JsonSerializable(typeof(IReadOnlyList<SiteServerInfo>))]
[JsonSerializable(typeof(TaskServerReport))]
[JsonSerializable(typeof(TaskServerWork))]
[JsonSerializable(typeof(TaskServerAccepted))]
[JsonSerializable(typeof(TaskServerStatusBatch))]
[JsonSerializable(typeof(TaskServerResultBatch))]
[JsonSerializable(typeof(TaskServerResultReceipts))]
[JsonSerializable(typeof(TaskServerInfoView))]
[JsonSerializable(typeof(IReadOnlyList<TaskServerInfoView>))]
[JsonSerializable(typeof(TaskServerSelectionSettings))]
[JsonSerializable(typeof(ServerSettings))]
[JsonSerializable(typeof(CommunicationProfile))]
[JsonSerializable(typeof(IReadOnlyList<CommunicationProfile>))]
[JsonSerializable(typeof(TargetedAgentSettings))]
[JsonSerializable(typeof(IReadOnlyList<TargetedAgentSettings>))]
[JsonSerializable(typeof(AgentInfo))]
[JsonSerializable(typeof(AgentPage))]
[JsonSerializable(typeof(FleetSummary))]
[JsonSerializable(typeof(NetworkStatus))]
[JsonSerializable(typeof(PushTaskRequest))]
[JsonSerializable(typeof(PushPolicyRequest))]
[JsonSerializable(typeof(InventoryNowRequest))]
[JsonSerializable(typeof(ActionCreated))]
[JsonSerializable(typeof(ActionStatus))]
[JsonSerializable(typeof(ActionCancelled))]
[JsonSerializable(typeof(WavePlan))]
[JsonSerializable(typeof(IReadOnlyDictionary<string, long>))]
[JsonSerializable(typeof(GatewayReport))]
[JsonSerializable(typeof(GatewayDecisionPoll))]
[JsonSerializable(typeof(GatewayDecisions))]
[JsonSerializable(typeof(GatewayView))]
[JsonSerializable(typeof(IReadOnlyList<GatewayView>))]
[JsonSerializable(typeof(CreateAdminKeyRequest))]
[JsonSerializable(typeof(AdminKeyCreated))]
[JsonSerializable(typeof(IReadOnlyList<AdminKeyInfo>))]
[JsonSerializable(typeof(AdminIdentity))]
[JsonSerializable(typeof(AuditPage))]
public sealed partial class ProtocolJsonContext : JsonSerializerContext;
