using System.Buffers;
using System.Text;
using System.Text.Json;
using FsCheck;
using FsCheck.Fluent;

namespace Tcm.Protocol.Tests;

/// <summary>
/// A message is read as the type its <c>kind</c> names and written as its own type with <c>kind</c> first (<see cref="MessageTypes"/>),
/// with the outcome of the serializer's polymorphic read and write (<see cref="MessageCodec.DecodePolymorphic"/>,
/// <see cref="MessageCodec.EncodePolymorphic"/>): the same message, the same bytes, the same refusal with the same detail.
/// </summary>
public sealed class MessageTypesTests
{
    public static TheoryData<Message> EveryKind()
    {
        var data = MessageCodecTests.EveryKind();
        data.Add(new AckMessage());
        data.Add(new TaskPushMessage { Seq = 6, TaskId = "t3", Command = "echo", AckKeys = ["a1:t1", "a1:t2"] });
        data.Add(new TaskResultMessage { TaskId = "t1", IdempotencyKey = "a1:t1", State = TaskState.Succeeded, Output = "one\ntwo", AckUpToSeq = 6 });
        return data;
    }

    public static TheoryData<string> Refused => new()
    {
        // A second kind, wherever the first is and whatever the second holds.
        """{"kind":"ack","upToSeq":3,"kind":"ack"}""",
        """{"kind":"ack","upToSeq":3,"kind":"hello"}""",
        """{"kind":"ack","upToSeq":3,"kind":5}""",
        """{"upToSeq":3,"kind":"ack","kind":"ack"}""",
        """{"kind":"ack","k\u0069nd":"ack"}""",
        // Metadata the polymorphic read refuses.
        """{"kind":"error","code":"x","detail":"y","$type":"x"}""",
        """{"$id":"1","kind":"error","code":"x","detail":"y"}""",
        """{"kind":"ack","$values":[]}""",
        """{"kind":"ack","\u0024ref":"1"}""",
        // No kind, not a string, outside the set.
        """{}""",
        """{"upToSeq":1}""",
        """{"KIND":"ack"}""",
        """{"kind":null}""",
        """{"kind":["ack"]}""",
        """{"kind":"reboot","now":true}""",
        """{"kind":"Ack"}""",
        // Not an object, not JSON, more than one value.
        "null",
        "[1,2]",
        "\"ack\"",
        "not json",
        "",
        """{"kind":"ack" """,
        """{"kind":"ack","upToSeq":1,}""",
        """{"kind":"ack"} x""",
        """{"kind":"ack"}{}""",
        // The kind's own fields wrong or missing.
        """{"kind":"ack","upToSeq":"many"}""",
        """{"kind":"task.push","seq":1}""",
        """{"taskId":"t","seq":1,"kind":"task.push"}""",
        """{"kind":"hello","protocolVersion":1}""",
        """{"kind":"task.status","taskId":"t","state":"bogus"}""",
        """{"kind":"ack","keys":["a",1]}""",
    };

    public static TheoryData<string> AcceptedAsBefore => new()
    {
        """{"kind":"ack","upToSeq":3,"nested":{"kind":"x"}}""",
        """{"kind":"ack","Kind":"x","upToSeq":2}""",
        """{"k\u0069nd":"ack","upToSeq":2}""",
        """{"kind":"\u0061ck","upToSeq":2}""",
        """{"kind":"ack","UPTOSEQ":2}""",
        """{"kind":"ack","note":"$ and \"kind\" in a value"}""",
        """ {"kind":"ack"} """,
        """{"kind":"task.push","seq":1,"taskId":"t","command":"c","seq":2}""",
        """{"seq":1,"taskId":"t","command":"c","parameters":{"kind":"x","$y":"z"},"kind":"task.push"}""",
    };

    [Fact]
    public void TheTypes_AreTheClosedSet()
    {
        foreach (var kind in MessageKinds.All)
        {
            var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes($"\"{kind}\""));
            reader.Read();

            var typeInfo = MessageTypes.Find(ref reader);

            typeInfo.Should().NotBeNull(kind);
            ProtocolJsonContext.Default.Message.PolymorphismOptions!.DerivedTypes
                .Should().ContainSingle(d => d.DerivedType == typeInfo!.Type && (string)d.TypeDiscriminator! == kind);
        }
    }

    [Theory]
    [MemberData(nameof(EveryKind))]
    public void EveryKind_IsWrittenAsThePolymorphicWriteWritesIt(Message message)
    {
        var polymorphic = MessageCodec.EncodePolymorphic(message);
        var output = new ArrayBufferWriter<byte>();

        MessageCodec.Encode(message, output);

        MessageTypes.TryEncode(message).Should().Equal(polymorphic);
        MessageCodec.Encode(message).Should().Equal(polymorphic);
        output.WrittenSpan.ToArray().Should().Equal(polymorphic);
    }

    [Fact]
    public void AMessageLargerThanTheKeptBuffer_IsWrittenWhole_AndTheNextOneToo()
    {
        var large = new TaskResultMessage { TaskId = "t", IdempotencyKey = "a:t", State = TaskState.Succeeded, Output = new string('x', 100_000) };
        var small = new AckMessage { UpToSeq = 1 };

        MessageCodec.Encode(large).Should().Equal(MessageCodec.EncodePolymorphic(large));
        MessageCodec.Encode(small).Should().Equal(MessageCodec.EncodePolymorphic(small));
    }

    [Theory]
    [MemberData(nameof(EveryKind))]
    public void EveryKind_WithKindFirst_InTheMiddle_AndLast_IsReadAsItsOwnType_AsThePolymorphicReadReadsIt(Message message)
    {
        var json = MessageCodec.Encode(message);

        foreach (var order in KindPlaces(json))
        {
            var decoded = MessageCodec.Decode(order);

            decoded.Should().Be(MessageCodec.DecodePolymorphic(order) with { Message = decoded.Message }, Encoding.UTF8.GetString(order));
            decoded.IsSuccess.Should().BeTrue(decoded.Detail);
            MessageCodec.Encode(decoded.Message!).Should().Equal(json);
            MessageCodec.Encode(MessageCodec.DecodePolymorphic(order).Message!).Should().Equal(json);
        }
    }

    [Theory]
    [MemberData(nameof(EveryKind))]
    public void EveryKind_AsWeWriteIt_TakesTheReadByKind_UnlessItHoldsAnotherKindNameOrAnEscape(Message message)
    {
        var json = MessageCodec.Encode(message);
        var text = Encoding.UTF8.GetString(json);
        var undecided = text.Split("\"kind\"").Length > 2 || text.Contains("\\u", StringComparison.Ordinal);

        var byKind = MessageCodec.TryDecodeByKind(json);

        if (undecided)
        {
            byKind.Should().BeNull("a nested or escaped 'kind' cannot be told from a second one without a walk; the polymorphic read decides");
        }
        else
        {
            byKind.Should().NotBeNull();
            MessageCodec.Encode(byKind!).Should().Equal(json);
        }
    }

    [Theory]
    [MemberData(nameof(Refused))]
    public void ARefusedMessage_IsRefusedWithThePolymorphicReadsErrorAndDetail(string json)
    {
        var bytes = Encoding.UTF8.GetBytes(json);

        var decoded = MessageCodec.Decode(bytes);

        decoded.IsSuccess.Should().BeFalse();
        decoded.Message.Should().BeNull();
        decoded.Should().Be(MessageCodec.DecodePolymorphic(bytes));
    }

    [Fact]
    public void ASecondKind_IsRefusedAsADuplicate()
    {
        var decoded = MessageCodec.Decode("""{"kind":"ack","upToSeq":3,"kind":"hello"}"""u8);

        decoded.Error.Should().Be(DecodeError.Malformed);
        decoded.Detail.Should().StartWith("'ack' message is invalid: ").And.Contain("duplicate 'kind'");
    }

    [Theory]
    [MemberData(nameof(AcceptedAsBefore))]
    public void AnUnusualMessage_IsReadAsThePolymorphicReadReadsIt(string json)
    {
        var bytes = Encoding.UTF8.GetBytes(json);

        var decoded = MessageCodec.Decode(bytes);
        var polymorphic = MessageCodec.DecodePolymorphic(bytes);

        decoded.IsSuccess.Should().BeTrue(decoded.Detail);
        polymorphic.IsSuccess.Should().BeTrue(polymorphic.Detail);
        MessageCodec.Encode(decoded.Message!).Should().Equal(MessageCodec.Encode(polymorphic.Message!));
    }

    [Fact]
    public void APushAndAResult_WithAnyText_AndKindAnywhere_AreReadAsThePolymorphicReadReadsThem()
    {
        var text = ArbMap.Default.ArbFor<NonNull<string>>();
        Prop.ForAll(text, text, ArbMap.Default.ArbFor<int>(), (a, b, place) =>
        {
            var c = NonNull<string>.NewNonNull(b.Get + "\n" + a.Get);
            Message[] messages =
            [
                new TaskPushMessage { Seq = 1, TaskId = a.Get, Command = b.Get, Name = c.Get, Parameters = new Dictionary<string, string> { [a.Get] = c.Get }, AckKeys = [b.Get, c.Get] },
                new TaskResultMessage { TaskId = a.Get, IdempotencyKey = b.Get, State = TaskState.Failed, Output = c.Get, AckUpToSeq = 2 },
                new AckMessage { Keys = [a.Get, b.Get, c.Get] },
            ];
            return messages.All(message =>
            {
                var json = MessageCodec.Encode(message);
                var places = KindPlaces(json);
                var order = places[(place & int.MaxValue) % places.Count];
                var decoded = MessageCodec.Decode(order);
                return json.SequenceEqual(MessageCodec.EncodePolymorphic(message))
                    && decoded.IsSuccess
                    && MessageCodec.Encode(decoded.Message!).SequenceEqual(json)
                    && MessageCodec.Encode(MessageCodec.DecodePolymorphic(order).Message!).SequenceEqual(json);
            });
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void AMessage_WithAnyBytesCut_IsRefusedOrReadAsThePolymorphicReadDoes()
    {
        var json = MessageCodec.Encode(new TaskPushMessage { Seq = 4, TaskId = "t", Command = "echo", Parameters = new Dictionary<string, string> { ["k"] = "v" }, AckKeys = ["a:t0"] });
        Prop.ForAll(ArbMap.Default.ArbFor<int>(), ArbMap.Default.ArbFor<int>(), (from, length) =>
        {
            var start = (from & int.MaxValue) % json.Length;
            var cut = json.Take(start).Concat(json.Skip(start + ((length & int.MaxValue) % 8))).ToArray();
            var decoded = MessageCodec.Decode(cut);
            var polymorphic = MessageCodec.DecodePolymorphic(cut);
            return decoded.IsSuccess
                ? polymorphic.IsSuccess && MessageCodec.Encode(decoded.Message!).SequenceEqual(MessageCodec.Encode(polymorphic.Message!))
                : decoded == polymorphic;
        }).QuickCheckThrowOnFailure();
    }

    /// <summary><paramref name="json"/> with its top-level <c>kind</c> moved to each place among the other members.</summary>
    private static List<byte[]> KindPlaces(byte[] json)
    {
        using var document = JsonDocument.Parse(json);
        var members = document.RootElement.EnumerateObject().ToList();
        var kind = members.Single(m => m.NameEquals("kind"));
        var others = members.Where(m => !m.NameEquals("kind")).ToList();
        var places = new List<byte[]>();
        for (var at = 0; at <= others.Count; at++)
        {
            var output = new ArrayBufferWriter<byte>();
            using (var writer = new Utf8JsonWriter(output))
            {
                writer.WriteStartObject();
                var order = others.ToList();
                order.Insert(at, kind);
                foreach (var member in order)
                {
                    member.WriteTo(writer);
                }

                writer.WriteEndObject();
            }

            places.Add(output.WrittenSpan.ToArray());
        }

        return places;
    }
}
