using System.Buffers;
using System.Text;
using System.Text.Json;
using Tcm.Protocol;

namespace Tcm.Protocol.Tests;

public sealed class MessageCodecTests
{
    public static TheoryData<Message> EveryKind() => new()
    {
        new HelloMessage { ProtocolVersion = 1, AgentId = "a1", AgentVersion = "1.0", Role = ChannelRole.TaskServer, LastReceivedSeq = 7, Route = "cem" },
        new WelcomeMessage { ProtocolVersion = 1, AgentId = "a1", ServerName = "ns1", ConnectionId = "c1", MaxMessageBytes = 1000, PolicyEtag = "e" },
        new AckMessage { UpToSeq = 9 },
        new AckMessage { Keys = ["a1:t1", "a1:t2"] },
        new PolicyPushMessage { Seq = 1, Policy = SamplePolicy() },
        new TaskPushMessage { Seq = 2, TaskId = "t1", Command = "echo", Parameters = new Dictionary<string, string> { ["text"] = "hi" }, TimeoutSeconds = 5, CreatedAt = DateTimeOffset.UnixEpoch },
        new TaskStatusMessage { TaskId = "t1", State = TaskState.Running, Detail = "started" },
        new TaskResultMessage { TaskId = "t1", IdempotencyKey = "a1:t1", State = TaskState.TimedOut, ExitCode = -1, Output = "late" },
        new InventoryRequestMessage { Seq = 3, RequestId = "r1", Classes = ["basic"] },
        new InventoryResultMessage { RequestId = "r1", IdempotencyKey = "a1:r1", Inventory = new BasicInventory { ComputerName = "PC1", Software = [new("Office", "16", "Contoso")] } },
        new HttpRequestMessage { Id = 4, Method = "GET", Path = TcmPaths.Policy, Headers = new Dictionary<string, string> { ["If-None-Match"] = "\"e\"" } },
        new HttpResponseMessage { Id = 4, Status = 200, Body = JsonDocument.Parse("{\"x\":1}").RootElement },
        new TerminateMessage { Reason = "admin", ReconnectAfterSeconds = 5 },
        new ErrorMessage { Code = CloseReasons.UnknownKind, Detail = "nope", Fatal = true },
        new TaskCancelMessage { TaskId = "t1", Reason = "cancelled by an administrator" },
        new HelloMessage { ProtocolVersion = 1, AgentId = "a1", AcceptsTaskCancel = true },
        new TaskPushMessage { Seq = 5, TaskId = "t2", Command = "echo", NotAfter = DateTimeOffset.UnixEpoch.AddDays(1), Urgent = true },
    };

    [Theory]
    [MemberData(nameof(EveryKind))]
    public void Encode_ThenDecode_ReturnsEqualMessage(Message message)
    {
        var bytes = MessageCodec.Encode(message);

        var result = MessageCodec.Decode(bytes);

        result.IsSuccess.Should().BeTrue(result.Detail);
        result.Message!.GetType().Should().Be(message.GetType());
        // Records with collections compare by reference; compare the canonical encoding instead.
        MessageCodec.Encode(result.Message).Should().Equal(bytes);
    }

    [Fact]
    public void EveryKind_IsCoveredByTheRoundTripData()
    {
        var kinds = ((IEnumerable<object[]>)EveryKind()).Select(row => KindOf(MessageCodec.Encode((Message)row[0]))).ToHashSet();

        kinds.Should().BeEquivalentTo(MessageKinds.All);
    }

    [Fact]
    public void Encode_WritesKindFirst_AndCamelCase()
    {
        var json = Encoding.UTF8.GetString(MessageCodec.Encode(new AckMessage { UpToSeq = 3 }));

        json.Should().Be("""{"kind":"ack","upToSeq":3}""");
    }

    [Fact]
    public void Encode_ToBufferWriter_MatchesByteArray()
    {
        var message = new TaskStatusMessage { TaskId = "t", State = TaskState.Succeeded };
        var writer = new ArrayBufferWriter<byte>();

        MessageCodec.Encode(message, writer);

        writer.WrittenSpan.ToArray().Should().Equal(MessageCodec.Encode(message));
    }

    [Fact]
    public void Decode_AcceptsKindAfterOtherProperties()
    {
        var result = MessageCodec.Decode("""{"upToSeq":5,"kind":"ack"}"""u8);

        result.IsSuccess.Should().BeTrue(result.Detail);
        result.Message.Should().Be(new AckMessage { UpToSeq = 5 });
    }

    [Fact]
    public void Decode_EnumsAreKebabStrings()
    {
        var json = Encoding.UTF8.GetString(MessageCodec.Encode(new TaskStatusMessage { TaskId = "t", State = TaskState.TimedOut }));

        json.Should().Contain("\"state\":\"timed-out\"");
    }

    [Fact]
    public void Decode_UnknownKind_IsClassifiedAndNamesTheKind()
    {
        var result = MessageCodec.Decode("""{"kind":"reboot","now":true}"""u8);

        result.Error.Should().Be(DecodeError.UnknownKind);
        result.Detail.Should().Contain("'reboot'").And.Contain("task.push");
    }

    [Theory]
    [InlineData("not json", "not valid JSON")]
    [InlineData("[1,2]", "not a JSON object")]
    [InlineData("{\"seq\":1}", "no string 'kind'")]
    [InlineData("{\"kind\":5}", "no string 'kind'")]
    [InlineData("{\"kind\":\"task.push\",\"seq\":1}", "'task.push' message is invalid")]
    [InlineData("{\"kind\":\"ack\",\"upToSeq\":\"many\"}", "'ack' message is invalid")]
    [InlineData("{\"kind\":\"ack\"", "not valid JSON")]
    public void Decode_BadInput_IsMalformedWithDetail(string json, string expectedDetail)
    {
        var result = MessageCodec.Decode(Encoding.UTF8.GetBytes(json));

        result.Error.Should().Be(DecodeError.Malformed);
        result.Detail.Should().Contain(expectedDetail);
    }

    [Fact]
    public void Decode_JsonNull_IsMalformed()
    {
        MessageCodec.Decode("null"u8).Error.Should().Be(DecodeError.Malformed);
    }

    [Fact]
    public void Decode_OverTheLimit_IsTooLargeWithoutParsing()
    {
        var big = Encoding.UTF8.GetBytes("{\"kind\":\"error\",\"code\":\"x\",\"detail\":\"" + new string('a', 200) + "\"}");

        var result = MessageCodec.Decode(big, maxMessageBytes: 100);

        result.Error.Should().Be(DecodeError.TooLarge);
        result.Detail.Should().Contain($"{big.Length} bytes").And.Contain("maximum of 100");
    }

    [Fact]
    public void PendingPushes_CarryEachItemsKind()
    {
        var pending = new PendingPushes { Items = [new TaskPushMessage { Seq = 1, TaskId = "t", Command = "echo" }, new InventoryRequestMessage { Seq = 2, RequestId = "r" }] };

        var json = JsonSerializer.Serialize(pending, ProtocolJsonContext.Default.PendingPushes);
        var back = JsonSerializer.Deserialize(json, ProtocolJsonContext.Default.PendingPushes)!;

        back.Items.Select(i => i.GetType()).Should().Equal(typeof(TaskPushMessage), typeof(InventoryRequestMessage));
        ((TaskPushMessage)back.Items[0]).Seq.Should().Be(1);
    }

    private static string KindOf(byte[] json)
    {
        using var doc = JsonDocument.Parse(json);
        return doc.RootElement.GetProperty("kind").GetString()!;
    }

    internal static PolicyDocument SamplePolicy() => new()
    {
        Etag = "e1",
        AgentId = "a1",
        TcmEnabled = true,
        Communication = new CommunicationSettings { ServerHosts = ["ns:4443"], PersistentConnection = true, Cem = new CemSettings { GatewayAddress = "gw:8443" } },
        Settings = new AgentSettings { VpnAdapters = ["*VPN*"], PreferCemIfVpn = true },
        TaskServers = new TaskServerPolicy { Servers = [new TaskServerEntry { Id = "ts1", Address = "ts:4726" }] },
        Packages = [new PackageReference { Id = "p", Name = "Office", Codebases = [new Codebase { Kind = CodebaseKind.Https, Location = "https://x/p" }] }],
    };
}
