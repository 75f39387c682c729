using Akka.Actor;
using Akka.Event;
using Akka.Remote;
using Akka.TestKit.Xunit2;
using DinCluster.Cluster.Hosting;
using DinCluster.Cluster.Observability;
using Xunit.Abstractions;

namespace DinCluster.Cluster.Tests.Hosting;

/// <summary>The log lines of nodes leaving together, made by Akka's own logging adapter as Akka.Remote makes them.</summary>
public sealed class ShutdownNoiseFilterTests(ITestOutputHelper output) : TestKit(output: output)
{
    private static readonly Address Peer = new("akka.tcp", "dincluster", "127.0.0.1", 39551);

    private Warning LogWarning(string format, params object[] args)
    {
        Sys.EventStream.Subscribe(TestActor, typeof(Warning));
        Sys.Log.Warning(format, args);
        var warning = FishForMessage<Warning>(w => w.Message?.ToString()?.StartsWith(format[..12], StringComparison.Ordinal) == true);
        Sys.EventStream.Unsubscribe(TestActor, typeof(Warning));
        return warning;
    }

    /// <summary>Akka.Remote's own (internal) exception type, the one the filter recognises.</summary>
    private static Exception Disassociated() =>
        (Exception)Activator.CreateInstance(typeof(RemoteSettings).Assembly.GetType("Akka.Remote.EndpointDisassociatedException", throwOnError: true)!, "Disassociated")!;

    private const string Gated = "Association with remote system {0} has failed; address is now gated for {1} ms. Reason is: [{2}]";

    [Fact]
    public void The_gated_warning_of_a_closed_connection_names_its_peer_and_prints_no_stack()
    {
        Exception reason;
        try
        {
            throw Disassociated();
        }
        catch (Exception e)
        {
            reason = e; // with a stack trace, as Akka's is
        }
        var warning = LogWarning(Gated, Peer, 5000, reason);
        Assert.Equal(Peer, ShutdownNoiseFilter.DisassociatedPeer(warning));
        Assert.True(ShutdownNoiseFilter.Keeps(warning)); // dropped only when the peer had left (NodeLogger)
        var line = NodeLogger.Format(warning, "node 127.0.0.1:1 coordinator");
        Assert.EndsWith("Reason is: [Akka.Remote.EndpointDisassociatedException: Disassociated]", line, StringComparison.Ordinal);
        Assert.DoesNotContain(Environment.NewLine, line, StringComparison.Ordinal);
    }

    [Fact]
    public void A_gated_warning_for_another_reason_names_no_peer()
    {
        var warning = LogWarning(Gated, Peer, 5000, new InvalidOperationException("refused"));
        Assert.Null(ShutdownNoiseFilter.DisassociatedPeer(warning));
        Assert.Contains("Reason is: [System.InvalidOperationException: refused]", NodeLogger.Format(warning, "node 127.0.0.1:1 worker"), StringComparison.Ordinal);
    }

    [Fact]
    public void The_channel_group_race_warning_is_dropped_and_other_warnings_are_kept()
    {
        Assert.False(ShutdownNoiseFilter.Keeps(LogWarning("Unable to REMOVE channel [{0}] from connection group. May not shut down cleanly.", "[::1]:1->[::1]:2")));
        Assert.True(ShutdownNoiseFilter.Keeps(LogWarning("Unable to bind {0}", "127.0.0.1:1")));
        var error = new Error(Disassociated(), "akka://x/system/endpointManager", typeof(ShutdownNoiseFilterTests), "Disassociated");
        Assert.False(ShutdownNoiseFilter.Keeps(error));
        Assert.True(ShutdownNoiseFilter.Keeps(new Error(new InvalidOperationException("boom"), "akka://x/user/ps-0", typeof(ShutdownNoiseFilterTests), "failed")));
    }
}
