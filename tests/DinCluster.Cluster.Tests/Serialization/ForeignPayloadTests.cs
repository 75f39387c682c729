using Akka.Actor;
using Akka.Configuration;
using Akka.Event;
using Akka.Serialization;
using Akka.TestKit.Xunit2;
using DinCluster.Cluster.Configuration;
using DinCluster.Cluster.Hosting;
using DinCluster.Cluster.Protocol;
using DinCluster.Cluster.Serialization;
using DinCluster.Cluster.Tests.MultiProcess.FaultSuite;
using Xunit.Abstractions;

namespace DinCluster.Cluster.Tests.Serialization;

/// <summary>
/// A node as shipped (cluster-config, DinSerializer) receives forged frames over real remoting on
/// loopback from an outsider whose serializer claims DinSerializer's id: an unknown manifest, garbage
/// bytes under a known manifest, and a .NET type name as manifest. Each is dropped and logged, no type
/// is loaded from the wire, the association stays usable and the node keeps answering real messages.
/// </summary>
[Trait("Category", "FaultSuite")]
public sealed class ForeignPayloadTests : TestKit
{
    private readonly ITestOutputHelper _output;

    public ForeignPayloadTests(ITestOutputHelper output) : base(output: output) => _output = output;

    // An assembly nothing in this test process uses: it must still be unloaded after the node saw its name.
    private const string ForeignType = "System.Net.Mail.MailMessage, System.Net.Mail";

    [Fact]
    public async Task Node_drops_and_logs_foreign_and_malformed_payloads_loads_no_type_and_keeps_working()
    {
        try
        {
            await Run();
            new FaultRow("foreign-payload", "passed", null, null, null, null, null, null,
                "unknown manifest, garbage under 'PR', a .NET type name as manifest: each dropped and logged by the node; no type loaded; node kept answering").Write();
        }
        catch (Exception e)
        {
            new FaultRow("foreign-payload", "failed", null, null, null, null, null, null, e.Message.Split('\n')[0]).Write();
            throw;
        }
    }

    private async Task Run()
    {
        Assert.DoesNotContain(AppDomain.CurrentDomain.GetAssemblies(), a => a.GetName().Name == "System.Net.Mail");
        var settings = NodeHost.Settings(new NodeOptions([NodeRole.Worker], 0, []));
        var node = ActorSystem.Create(settings.SystemName, ConfigurationFactory.ParseString("akka.loglevel = INFO").WithFallback(settings.ToAkkaConfig()));
        var outsider = ActorSystem.Create("outsider", ConfigurationFactory.ParseString($$"""
            akka.actor.provider = remote
            akka.remote.dot-netty.tcp { hostname = "127.0.0.1", port = 0 }
            akka.actor.serializers.forger = "{{typeof(ForgingSerializer).AssemblyQualifiedName}}"
            akka.actor.serialization-bindings {
              "{{typeof(IDinMessage).AssemblyQualifiedName}}" = forger
              "{{typeof(Forged).AssemblyQualifiedName}}" = forger
            }
            """));
        try
        {
            var logs = CreateTestProbe(node);
            node.EventStream.Subscribe(logs.Ref, typeof(Warning));
            node.EventStream.Subscribe(logs.Ref, typeof(Error));
            node.ActorOf(Props.Create(() => new Echo()), "echo");
            var address = ((ExtendedActorSystem)node).Provider.DefaultAddress;
            Assert.Equal("127.0.0.1", address.Host);   // bound to loopback by default
            var echo = await outsider.ActorSelection(new RootActorPath(address) / "user" / "echo").ResolveOne(TimeSpan.FromSeconds(10));
            var replies = CreateTestProbe(outsider);

            echo.Tell(new StartEpoch(1), replies.Ref);
            replies.ExpectMsg<StartEpoch>(m => m.Epoch == 1, TimeSpan.FromSeconds(10));

            void ExpectLogged(Forged forged, string text)
            {
                echo.Tell(forged, replies.Ref);
                var logged = logs.FishForMessage<LogEvent>(e => e.ToString().Contains(text, StringComparison.Ordinal), TimeSpan.FromSeconds(10),
                    $"the node's log line about {forged.Manifest}");
                _output.WriteLine($"node logged: {logged}");
                // Not delivered: the next real message is the next thing the echo answers.
                echo.Tell(new StartEpoch(forged.Bytes.Length), replies.Ref);
                replies.ExpectMsg<StartEpoch>(m => m.Epoch == forged.Bytes.Length, TimeSpan.FromSeconds(10));
            }

            ExpectLogged(new Forged("ZZZ", [1, 2, 3]), "unknown manifest 'ZZZ'");
            ExpectLogged(new Forged("PR", [0xFF, 0xFF, 0xFF, 0x7F, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9]), "malformed 'PR'");
            ExpectLogged(new Forged(ForeignType, [0x7B, 0x7D, 0x20, 0x20]), "unknown manifest '" + ForeignType + "'");

            Assert.DoesNotContain(AppDomain.CurrentDomain.GetAssemblies(), a => a.GetName().Name == "System.Net.Mail");
            Assert.DoesNotContain(new DinSerializer((ExtendedActorSystem)node).Manifests, m => m.Contains('.', StringComparison.Ordinal));
        }
        finally
        {
            await outsider.Terminate();
            await node.Terminate();
        }
    }

    /// <summary>A frame as an attacker or a mismatched build would send it: any manifest, any bytes.</summary>
    public sealed record Forged(string Manifest, byte[] Bytes);

    /// <summary>Claims DinSerializer's id; real protocol messages go through a real DinSerializer, <see cref="Forged"/> as given.</summary>
    public sealed class ForgingSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
    {
        private readonly DinSerializer _din = new(system);

        public override int Identifier => DinSerializer.Id;

        public override string Manifest(object o) => o is Forged f ? f.Manifest : _din.Manifest(o);

        public override byte[] ToBinary(object obj) => obj is Forged f ? f.Bytes : _din.ToBinary(obj);

        public override object FromBinary(byte[] bytes, string manifest) => _din.FromBinary(bytes, manifest);
    }

    /// <summary>Akka's JSON serializer (id 1) would resolve the manifest with Type.GetType: the shipped config replaces it.</summary>
    [Fact]
    public async Task Node_refuses_a_JSON_frame_naming_a_type_and_loads_no_type()
    {
        var settings = NodeHost.Settings(new NodeOptions([NodeRole.Worker], 0, []));
        var node = ActorSystem.Create(settings.SystemName, ConfigurationFactory.ParseString("akka.loglevel = INFO").WithFallback(settings.ToAkkaConfig()));
        var outsider = ActorSystem.Create("outsider", ConfigurationFactory.ParseString($$"""
            akka.actor.provider = remote
            akka.remote.dot-netty.tcp { hostname = "127.0.0.1", port = 0 }
            akka.actor.serializers.json = "{{typeof(JsonForger).AssemblyQualifiedName}}"
            """));
        var logs = CreateTestProbe(node);
        node.EventStream.Subscribe(logs.Ref, typeof(Warning));
        node.EventStream.Subscribe(logs.Ref, typeof(Error));
        node.ActorOf(Props.Create(() => new Echo()), "echo");
        var address = ((ExtendedActorSystem)node).Provider.DefaultAddress;
        var echo = await outsider.ActorSelection(new RootActorPath(address) / "user" / "echo").ResolveOne(TimeSpan.FromSeconds(10));
        try
        {
            echo.Tell(new Forged(ForeignType, "{}"u8.ToArray()));
            var logged = logs.FishForMessage<LogEvent>(e => e.ToString().Contains("refused a JSON payload", StringComparison.Ordinal), TimeSpan.FromSeconds(10),
                "the node's log line about the JSON frame");
            _output.WriteLine($"node logged: {logged}");
            Assert.DoesNotContain(AppDomain.CurrentDomain.GetAssemblies(), a => a.GetName().Name == "System.Net.Mail");
        }
        finally
        {
            await outsider.Terminate();
            await node.Terminate();
        }
    }

    /// <summary>Sends <see cref="Forged"/> as Akka's JSON serializer (id 1) would, with any manifest.</summary>
    public sealed class JsonForger(ExtendedActorSystem system) : SerializerWithStringManifest(system)
    {
        public JsonForger(ExtendedActorSystem system, Config config) : this(system) => _ = config;
        public override int Identifier => 1;
        public override byte[] ToBinary(object obj) => obj is Forged f ? f.Bytes : throw new NotSupportedException();
        public override object FromBinary(byte[] bytes, string m) => throw new NotSupportedException();
        public override string Manifest(object o) => o is Forged f ? f.Manifest : "";
    }

    private sealed class Echo : ReceiveActor
    {
        public Echo() => ReceiveAny(m => Sender.Tell(m));
    }
}
