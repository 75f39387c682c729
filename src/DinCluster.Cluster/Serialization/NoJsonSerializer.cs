using System.Runtime.Serialization;
using Akka.Actor;
using Akka.Configuration;
using Akka.Serialization;

namespace DinCluster.Cluster.Serialization;

/// <summary>
/// Takes the place of Akka's default JSON serializer (id 1, bound to System.Object) on every node.
/// Akka resolves a JSON frame's manifest with Type.GetType before deserializing, so a peer could make
/// a node load any type it names. Nothing of DinCluster goes as JSON (every protocol message is an
/// IDinMessage, Akka's own messages have their own serializers): this one refuses both ways, and as a
/// string-manifest serializer it receives the manifest as text, never as a type.
/// </summary>
public sealed class NoJsonSerializer : SerializerWithStringManifest
{
    public NoJsonSerializer(ExtendedActorSystem system) : base(system)
    {
    }

    // Akka passes akka.actor.serialization-settings.json to the serializer it configures as "json".
    public NoJsonSerializer(ExtendedActorSystem system, Config config) : this(system) => _ = config;

    public override int Identifier => 1;

    public override string Manifest(object o) => throw Refused(o.GetType().FullName ?? "?");

    public override byte[] ToBinary(object obj) => throw Refused(obj.GetType().FullName ?? "?");

    public override object FromBinary(byte[] bytes, string manifest) =>
        throw new SerializationException($"refused a JSON payload ({bytes.Length} bytes, manifest '{manifest}'): DinCluster nodes read no JSON and load no type named on the wire");

    private static NotSupportedException Refused(string type) =>
        new($"{type} has no serializer binding; DinCluster sends IDinMessage through DinSerializer and never falls back to JSON");
}
