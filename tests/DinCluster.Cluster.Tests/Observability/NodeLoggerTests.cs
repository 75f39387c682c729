using Akka.Actor;
using Akka.Configuration;
using Akka.Event;
using Akka.TestKit.Xunit2;
using DinCluster.Cluster.Configuration;
using DinCluster.Cluster.Observability;
using DinCluster.Cluster.Protocol;
using Xunit.Abstractions;

namespace DinCluster.Cluster.Tests.Observability;

public sealed class NodeLoggerTests : TestKit
{
    private readonly ITestOutputHelper _output;

    public NodeLoggerTests(ITestOutputHelper output) : base(output: output) => _output = output;

    [Fact]
    public async Task Node_logger_lines_name_the_node_address_and_roles_when_a_cluster_node_logs()
    {
        // The shipped config (reference.conf's akka.loggers) on a real remoting node, its lines captured.
        var settings = ClusterSettings.Create(ClusterConfigFiles.Load(Deployment.Simulated)).ForNode("127.0.0.1", 0, [], [NodeRole.Worker]);
        var config = ConfigurationFactory.ParseString("akka.loglevel = INFO").WithFallback(settings.ToAkkaConfig());
        var lines = new StringWriter();
        var system = ActorSystem.Create(settings.SystemName, BootstrapSetup.Create().WithConfig(config).And(new NodeLogSetup(TextWriter.Synchronized(lines))));
        try
        {
            var address = ((ExtendedActorSystem)system).Provider.DefaultAddress;
            var node = $"[node 127.0.0.1:{address.Port} worker]";
            system.Log.Warning("observable {0}", 42);
            AwaitAssert(() =>
            {
                var text = lines.ToString();
                Assert.Contains(text.Split('\n'), l => l.StartsWith("[WARNING][", StringComparison.Ordinal) && l.Contains(node, StringComparison.Ordinal) && l.TrimEnd().EndsWith("] observable 42", StringComparison.Ordinal));
                // Akka's own lines (the cluster starting up) go through the same logger.
                Assert.Contains(text.Split('\n'), l => l.StartsWith("[INFO][", StringComparison.Ordinal) && l.Contains(node, StringComparison.Ordinal) && l.Contains("Cluster", StringComparison.Ordinal));
                // Every line names the node, those logged before remoting had its port too ("127.0.0.1:?").
                Assert.All(text.Split('\n').Where(l => l.StartsWith('[')), l => Assert.Contains("][node 127.0.0.1:", l, StringComparison.Ordinal));
                // No logger failure (it would print to the console instead and lose the node label).
                Assert.DoesNotContain("[ERROR]", text, StringComparison.Ordinal);
            }, TimeSpan.FromSeconds(20));
            _output.WriteLine(lines.ToString());
        }
        finally
        {
            await system.Terminate();
        }
    }

    [Fact]
    public void Node_logger_format_keeps_akkas_bracketed_level_first_and_adds_the_cause_of_an_error()
    {
        var info = new Info("akka://x/user/worker-0", typeof(NodeLoggerTests), "ready");
        var line = NodeLogger.Format(info, "node 10.0.0.5:4053 worker");
        Assert.Matches(@"^\[INFO\]\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\]\[node 10\.0\.0\.5:4053 worker\]\[akka://x/user/worker-0\] ready$", line);
        var error = new Error(new InvalidOperationException("boom"), "akka://x/user/ps-0", typeof(NodeLoggerTests), "failed");
        var errorLine = NodeLogger.Format(error, "node 10.0.0.6:4053 ps");
        Assert.StartsWith("[ERROR][", errorLine, StringComparison.Ordinal);
        Assert.Contains("] failed", errorLine, StringComparison.Ordinal);
        Assert.Contains("Cause: System.InvalidOperationException: boom", errorLine, StringComparison.Ordinal);
    }
}
