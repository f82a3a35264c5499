using System.Buffers;
using System.Collections.Frozen;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Tcm.Protocol;

/// <summary>
/// The closed set of message kinds as the serializer knows it: for each kind its derived type's source-generated metadata, so that
/// <see cref="MessageCodec"/> reads and writes a message as its own type instead of through the polymorphic <see cref="Message"/>.
/// Built from <see cref="Message"/>'s <c>[JsonDerivedType]</c> attributes (the source-generated polymorphism options), so the set and the
/// discriminators stay in one place.
/// </summary>
/// <remarks>
/// why: the polymorphic read, with <c>kind</c> allowed anywhere, looks the whole object over for metadata before it reads it, and the
/// polymorphic write keeps a frame per level (an array of write frames per message). Every process reads and writes every message, and
/// a fan-out makes thousands a second.
/// </remarks>
internal static class MessageTypes
{
    private static readonly Entry[] Entries = Build(out ByType);
    private static readonly FrozenDictionary<Type, Entry> ByType;

    // why a writer per thread, as the serializer keeps its own: a message is written into it and copied once into the array that is sent.
    [ThreadStatic]
    private static EncodeBuffer? t_buffer;

    /// <summary>The derived type's metadata for the kind the reader is on (a JSON string), or null for a kind outside the set.</summary>
    public static JsonTypeInfo? Find(ref Utf8JsonReader kind)
    {
        foreach (var entry in Entries)
        {
            if (kind.ValueTextEquals(entry.Kind))
            {
                return entry.TypeInfo;
            }
        }

        return null;
    }

    /// <summary>
    /// The UTF-8 JSON of <paramref name="message"/> written as its own type with <c>kind</c> first, the bytes the polymorphic write gives;
    /// null for a type outside the set (the caller's polymorphic write refuses it).
    /// </summary>
    public static byte[]? TryEncode(Message message)
    {
        if (!ByType.TryGetValue(message.GetType(), out var entry))
        {
            return null;
        }

        var buffer = t_buffer ?? new EncodeBuffer();
        t_buffer = null;
        try
        {
            var body = buffer.Write(message, entry.TypeInfo);

            // The object as its own type is "{...}"; its '{' gives way to the "{"kind":"...", written first.
            var empty = body.Length == 2;
            var json = new byte[entry.Start.Length + (empty ? 1 : body.Length)];
            entry.Start.CopyTo(json, 0);
            if (empty)
            {
                json[^1] = (byte)'}';
            }
            else
            {
                json[entry.Start.Length] = (byte)',';
                body[1..].CopyTo(json.AsSpan(entry.Start.Length + 1));
            }

            return json;
        }
        finally
        {
            if (buffer.Keep())
            {
                t_buffer = buffer;
            }
        }
    }

    private static Entry[] Build(out FrozenDictionary<Type, Entry> byType)
    {
        var context = ProtocolJsonContext.Default;
        var polymorphism = context.Message.PolymorphismOptions
            ?? throw new InvalidOperationException("Message has no polymorphism options: its [JsonDerivedType] attributes are gone");
        var entries = polymorphism.DerivedTypes
            .Select(derived => new Entry(
                (string)derived.TypeDiscriminator!,
                context.GetTypeInfo(derived.DerivedType) ?? throw new InvalidOperationException($"no metadata for {derived.DerivedType}"),
                polymorphism.TypeDiscriminatorPropertyName))
            .ToArray();
        byType = entries.ToFrozenDictionary(entry => entry.TypeInfo.Type);
        return entries;
    }

    private sealed class Entry
    {
        public Entry(string kind, JsonTypeInfo typeInfo, string discriminatorName)
        {
            Kind = System.Text.Encoding.UTF8.GetBytes(kind);
            TypeInfo = typeInfo;

            // why the writer, not a literal: the discriminator's name and value pass the same encoder as in the polymorphic write.
            var start = new ArrayBufferWriter<byte>();
            using (var writer = new Utf8JsonWriter(start, EncodeBuffer.WriterOptions))
            {
                writer.WriteStartObject();
                writer.WriteString(discriminatorName, kind);
            }

            Start = start.WrittenSpan.ToArray();
        }

        public byte[] Kind { get; }

        public JsonTypeInfo TypeInfo { get; }

        /// <summary><c>{"kind":"..."</c>, as the polymorphic write begins the object.</summary>
        public byte[] Start { get; }
    }

    private sealed class EncodeBuffer
    {
        /// <summary>The writer's options as the serializer derives them from the context's options.</summary>
        public static readonly JsonWriterOptions WriterOptions = new()
        {
            Encoder = ProtocolJsonContext.Default.Options.Encoder,
            Indented = ProtocolJsonContext.Default.Options.WriteIndented,
            MaxDepth = ProtocolJsonContext.Default.Options.MaxDepth is 0 ? 64 : ProtocolJsonContext.Default.Options.MaxDepth,
        };

        // why a bound: a large message (an inventory, an HTTP body) once does not pin its buffer to the thread for good.
        private const int KeptBytes = 16 * 1024;
        private readonly ArrayBufferWriter<byte> _bytes = new(1024);
        private readonly Utf8JsonWriter _writer;

        public EncodeBuffer() => _writer = new Utf8JsonWriter(_bytes, WriterOptions);

        public ReadOnlySpan<byte> Write(Message message, JsonTypeInfo typeInfo)
        {
            _bytes.ResetWrittenCount();
            _writer.Reset(_bytes);
            JsonSerializer.Serialize(_writer, message, typeInfo);
            _writer.Flush();
            return _bytes.WrittenSpan;
        }

        public bool Keep() => _bytes.Capacity <= KeptBytes;
    }
}
