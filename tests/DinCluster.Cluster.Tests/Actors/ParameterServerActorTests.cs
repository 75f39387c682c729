using Akka.Actor;
using Akka.TestKit.Xunit2;
using DinCluster.Cluster.Actors;
using DinCluster.Cluster.Jobs;
using DinCluster.Cluster.Protocol;
using DinCluster.Cluster.Tests.Support;
using DinCluster.Cluster.Transfer;
using DinCluster.Core.Batches;
using DinCluster.Core.Routing;
using Xunit.Abstractions;

namespace DinCluster.Cluster.Tests.Actors;

public sealed class ParameterServerActorTests(ITestOutputHelper output) : TestKit(ActorTestConfig.Create(), output: output)
{
    private const int Budget = 64 * 1024;

    private IActorRef StartShard(SyncMode sync = SyncMode.Async)
    {
        var coordinator = CreateTestProbe();
        var ps = Sys.ActorOf(ParameterServerActor.Props(coordinator.Ref));
        coordinator.ExpectMsg<JoinTraining>(m => m.Role == NodeRole.ParameterServer);
        var job = SyntheticData.Job("/nowhere", "/nowhere", 3);
        ps.Tell(new AssignPsShard(0, 1, new TrainOptions(sync, 0, 2, Budget, TrainJobJson.Write(job))));
        ExpectMsg<PsShardReady>();
        return ps;
    }

    [Fact]
    public void Shard_0_hosts_fresh_dense_parameters_at_each_new_coordinators_assignment_and_other_shards_none()
    {
        var proxy = CreateTestProbe("proxy");
        var ps = Sys.ActorOf(ParameterServerActor.Props(proxy.Ref));
        var other = Sys.ActorOf(ParameterServerActor.Props(proxy.Ref));
        var options = new TrainOptions(SyncMode.Async, 0, 2, Budget, TrainJobJson.Write(SyntheticData.Job("/nowhere", "/nowhere", 3)));
        var old = CreateTestProbe("old-coordinator");
        ps.Tell(new AssignPsShard(0, 2, options), old.Ref);
        other.Tell(new AssignPsShard(1, 2, options), old.Ref);
        // The two shards answer in either order.
        var ready = old.ReceiveN(2, TimeSpan.FromSeconds(10)).Cast<PsShardReady>().ToDictionary(r => r.ShardIndex);
        var dense = ready[0].Dense;
        Assert.True(ready[1].Dense.IsNobody());
        Assert.False(dense.IsNobody());

        // It is a working dense actor: the first weights win.
        dense.Tell(new InitDenseWeights([1f, 2f]));
        Assert.Equal([1f, 2f], ExpectMsg<DenseWeights>().Weights);
        dense.Tell(new InitDenseWeights([5f, 5f]));
        Assert.Equal([1f, 2f], ExpectMsg<DenseWeights>().Weights);
        // The same coordinator assigning again keeps it.
        ps.Tell(new AssignPsShard(0, 2, options), old.Ref);
        Assert.Equal(dense, old.ExpectMsg<PsShardReady>().Dense);

        // A new coordinator gets a fresh one (it restores a checkpoint into it, or starts over).
        var next = CreateTestProbe("new-coordinator");
        Watch(dense);
        ps.Tell(new AssignPsShard(0, 2, options), next.Ref);
        var fresh = next.ExpectMsg<PsShardReady>().Dense;
        ExpectTerminated(dense);
        fresh.Tell(new InitDenseWeights([5f, 5f]));
        Assert.Equal([5f, 5f], ExpectMsg<DenseWeights>().Weights);
    }

    [Fact]
    public void Parameter_server_announces_itself_again_and_starts_a_fresh_table_when_a_new_coordinator_assigns_it()
    {
        var proxy = CreateTestProbe("proxy");
        var ps = Sys.ActorOf(ParameterServerActor.Props(proxy.Ref));
        proxy.ExpectMsg<JoinTraining>(m => m.Role == NodeRole.ParameterServer);
        var options = new TrainOptions(SyncMode.Async, 0, 2, Budget, TrainJobJson.Write(SyntheticData.Job("/nowhere", "/nowhere", 3)));
        var old = CreateTestProbe("old-coordinator");
        ps.Tell(new AssignPsShard(0, 1, options), old.Ref);
        old.ExpectMsg<PsShardReady>();
        ps.Tell(new PullRows(1, "item", [7]));
        var initial = ExpectMsg<RowsPulled>().Rows.Values;
        ps.Tell(new PushGradients(5, 1, 0, 8, 0, 1, [new TableRows("item", 8, [7], Enumerable.Repeat(1f, 8).ToArray())], [[1]], 0));
        Assert.Equal(PushOutcome.Applied, ExpectMsg<GradientsApplied>().Outcome);
        // The same coordinator assigning again keeps the table.
        ps.Tell(new AssignPsShard(0, 1, options), old.Ref);
        old.ExpectMsg<PsShardReady>();
        ps.Tell(new PullRows(2, "item", [7]));
        Assert.NotEqual(initial, ExpectMsg<RowsPulled>().Rows.Values);

        // The coordinator is gone: the shard announces itself through the proxy; a new coordinator gets a fresh table
        // (it restores the checkpoint into it, or starts the job over).
        Sys.Stop(old.Ref);
        proxy.ExpectMsg<JoinTraining>(m => m.Role == NodeRole.ParameterServer, TimeSpan.FromSeconds(10));
        var next = CreateTestProbe("new-coordinator");
        ps.Tell(new AssignPsShard(0, 1, options), next.Ref);
        Assert.Equal(1, next.ExpectMsg<PsShardReady>().Generation);
        ps.Tell(new PullRows(3, "item", [7]));
        Assert.Equal(initial, ExpectMsg<RowsPulled>().Rows.Values);
        // A push the old coordinator's worker sent before the takeover, landing now, is refused.
        ps.Tell(new PushGradients(6, 2, 0, 8, 0, 1, [new TableRows("item", 8, [7], Enumerable.Repeat(1f, 8).ToArray())], [[1]], 0));
        var stale = ExpectMsg<GradientsApplied>();
        Assert.Equal((PushOutcome.Stale, 0L), (stale.Outcome, stale.Generation));
        ps.Tell(new PullRows(4, "item", [7]));
        Assert.Equal(initial, ExpectMsg<RowsPulled>().Rows.Values);
    }

    [Fact]
    public void Parameter_server_refuses_pushes_of_an_older_generation_after_a_restore_and_applies_the_new_ones()
    {
        using var dir = new TempDir();
        var ps = StartShard();
        TableRows Grad() => new("item", 8, [7], Enumerable.Repeat(1f, 8).ToArray());
        ps.Tell(new PushGradients(1, 1, 0, 8, 0, 1, [Grad()], [[1]], 0));
        Assert.Equal(PushOutcome.Applied, ExpectMsg<GradientsApplied>().Outcome);
        var path = Path.Combine(dir.Path, "ps-0.bin");
        ps.Tell(new WriteSnapshot(1, path));
        Assert.Equal("", ExpectMsg<SnapshotWritten>().Error);
        ps.Tell(new PullRows(1, "item", [7]));
        var atCheckpoint = ExpectMsg<RowsPulled>().Rows.Values;

        // Batch 2 was pushed in two parts; the rollback came between them. Its second part, and a
        // whole push of batch 3, still carry generation 0 when they land after the restore.
        var two = PushPlan.Build([new TableRows("item", 8, [7, 8], Enumerable.Repeat(1f, 16).ToArray())], [[1, 1]], new ShardRouter(1), 600, 2, 2, 0, 8, 0);
        Assert.True(two.Count > 1, $"{two.Count} part(s)");
        ps.Tell(two[0].Push);
        ps.Tell(new RestoreSnapshot(1, [path], 1));
        ExpectMsg<SnapshotRestored>(m => m.Error == "");
        foreach (var (_, part) in two.Skip(1)) ps.Tell(part);
        Assert.Equal(PushOutcome.Stale, ExpectMsg<GradientsApplied>().Outcome);
        ps.Tell(new PushGradients(3, 3, 0, 8, 0, 1, [Grad()], [[1]], 0));
        Assert.Equal(PushOutcome.Stale, ExpectMsg<GradientsApplied>().Outcome);
        ps.Tell(new PullRows(2, "item", [7]));
        Assert.Equal(atCheckpoint, ExpectMsg<RowsPulled>().Rows.Values);

        // The same batch re-computed in the new generation is applied once.
        ps.Tell(new PushGradients(2, 2, 0, 8, 0, 1, [Grad()], [[1]], 1));
        var applied = ExpectMsg<GradientsApplied>();
        Assert.Equal((PushOutcome.Applied, 1L), (applied.Outcome, applied.Generation));
        ps.Tell(new PullRows(3, "item", [7]));
        Assert.NotEqual(atCheckpoint, ExpectMsg<RowsPulled>().Rows.Values);
    }

    [Fact]
    public void Parameter_server_splits_a_pull_reply_below_the_budget_when_many_rows_are_asked()
    {
        var ps = StartShard();
        var ids = Enumerable.Range(0, 5000).Select(i => (long)i).ToArray();
        ps.Tell(new PullRows(9, "item", ids));
        var per = MessageBudget.RowsPerMessage(Budget, 8);
        var parts = (5000 + per - 1) / per;
        var replies = Enumerable.Range(0, parts).Select(_ => ExpectMsg<RowsPulled>()).ToList();
        Assert.True(parts > 1);
        Assert.All(replies, r => Assert.True(r.Rows.Ids.Length <= per && r.Total == 5000 && r.RequestId == 9));
        Assert.Equal(ids, replies.OrderBy(r => r.Offset).SelectMany(r => r.Rows.Ids));
    }

    [Fact]
    public void Parameter_server_ignores_a_push_when_its_batch_id_was_applied_before()
    {
        var ps = StartShard();
        var push = new PushGradients(42, 1, 0, 8, 0, 1, [new TableRows("item", 8, [1, 2], new float[16])], [[1, 1]], 0);
        ps.Tell(push);
        Assert.Equal(PushOutcome.Applied, ExpectMsg<GradientsApplied>().Outcome);
        ps.Tell(push);
        Assert.Equal(PushOutcome.Duplicate, ExpectMsg<GradientsApplied>().Outcome);
        ps.Tell(GetShardStats.Instance);
        var stats = ExpectMsg<ShardStats>();
        Assert.Equal((1L, 1L), (stats.PushesApplied, stats.DuplicatesIgnored));
    }

    [Fact]
    public void Parameter_server_rejects_and_counts_a_push_when_a_gradient_is_nan()
    {
        var ps = StartShard();
        ps.Tell(new PullRows(1, "item", [7]));
        var before = ExpectMsg<RowsPulled>().Rows.Values;
        var grads = new float[8];
        grads[3] = float.NaN;
        ps.Tell(new PushGradients(5, 1, 0, 8, 0, 1, [new TableRows("item", 8, [7], grads)], [[1]], 0));
        Assert.Equal(PushOutcome.RejectedNaN, ExpectMsg<GradientsApplied>().Outcome);
        ps.Tell(new PullRows(2, "item", [7]));
        Assert.Equal(before, ExpectMsg<RowsPulled>().Rows.Values);
        ps.Tell(GetShardStats.Instance);
        Assert.Equal(1, ExpectMsg<ShardStats>().NaNRejected);
    }

    [Fact]
    public void Parameter_server_holds_bsp_pushes_until_the_step_is_applied()
    {
        var ps = StartShard(SyncMode.Bsp);
        ps.Tell(new PullRows(1, "item", [7]));
        var before = ExpectMsg<RowsPulled>().Rows.Values;
        ps.Tell(new PushGradients(5, 0, 0, 8, 0, 1, [new TableRows("item", 8, [7], Enumerable.Repeat(1f, 8).ToArray())], [[1]], 0));
        Assert.Equal(PushOutcome.Buffered, ExpectMsg<GradientsApplied>().Outcome);
        ps.Tell(new PullRows(2, "item", [7]));
        Assert.Equal(before, ExpectMsg<RowsPulled>().Rows.Values);
        ps.Tell(new ApplyStep(0, [0], [8]));
        ExpectMsg<StepApplied>(m => m.Step == 0);
        ps.Tell(new PullRows(3, "item", [7]));
        Assert.NotEqual(before, ExpectMsg<RowsPulled>().Rows.Values);
    }
}
