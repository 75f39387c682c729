using DinCluster.Cluster.Protocol;
using DinCluster.Cluster.Transfer;
using DinCluster.Core.Batches;
using DinCluster.Core.Routing;

namespace DinCluster.Cluster.Tests.Transfer;

public sealed class TransferTests
{
    private static readonly ShardRouter Router = new(3);

    private static int ShardOf(string table, long id) => Router.ShardOf(table, id);

    private static BatchIndex Index(params long[][] uniqueIds) => new() { UniqueIds = uniqueIds, SparseSlots = [], VarLenSlots = [] };

    [Fact]
    public void Pull_plan_scatters_replies_back_to_unique_id_order_when_ids_span_shards()
    {
        var index = Index([5, 3, 4, 6], [1]);
        var plan = new PullPlan(index, [("item", 2), ("user", 1)], Router, 64 * 1024, firstRequestId: 100);
        var itemShards = new long[] { 5, 3, 4, 6 }.Select(id => ShardOf("item", id)).Distinct().Count();
        Assert.True(itemShards > 1, $"the item ids fall on {itemShards} shard(s)");
        Assert.Equal(itemShards + 1, plan.Requests.Count);
        foreach (var (shard, req) in plan.Requests)
        {
            Assert.All(req.Ids, id => Assert.Equal(shard, ShardOf(req.Table, id)));
            var dim = req.Table == "item" ? 2 : 1;
            var values = req.Ids.SelectMany(id => Enumerable.Repeat((float)id, dim)).ToArray();
            Assert.True(plan.Accept(new RowsPulled(req.RequestId, 0, req.Ids.Length, new TableRows(req.Table, dim, req.Ids, values))));
        }
        Assert.True(plan.IsComplete);
        Assert.Equal([5f, 5f, 3f, 3f, 4f, 4f, 6f, 6f], plan.Rows[0].Values);
        Assert.Equal([1f], plan.Rows[1].Values);
        Assert.Equal(100 + itemShards + 1, plan.NextRequestId);
        Assert.False(plan.Accept(new RowsPulled(999, 0, 0, new TableRows("item", 2, [], []))));
    }

    [Fact]
    public void Pull_plan_completes_only_when_every_part_of_a_split_reply_arrived()
    {
        var plan = new PullPlan(Index([0, 3, 6, 9]), [("item", 1)], new ShardRouter(1), 64 * 1024, 0);
        var req = Assert.Single(plan.Requests).Request;
        plan.Accept(new RowsPulled(req.RequestId, 0, 4, new TableRows("item", 1, [0, 3], [10, 13])));
        Assert.False(plan.IsComplete);
        plan.Accept(new RowsPulled(req.RequestId, 2, 4, new TableRows("item", 1, [6, 9], [16, 19])));
        Assert.True(plan.IsComplete);
        Assert.Equal([10f, 13f, 16f, 19f], plan.Rows[0].Values);
    }

    [Fact]
    public void Pull_plan_splits_requests_when_rows_exceed_the_message_budget()
    {
        const int dim = 128;
        var ids = Enumerable.Range(0, 10_000).Select(i => (long)i * 3).ToArray();
        var plan = new PullPlan(Index(ids), [("item", dim)], Router, 1 << 20, 0);
        var per = MessageBudget.RowsPerMessage(1 << 20, dim);
        Assert.All(plan.Requests, r => Assert.True(r.Request.Ids.Length <= per));
        Assert.Equal(10_000, plan.Requests.Sum(r => r.Request.Ids.Length));
        Assert.True(per * (8 + dim * 4) < 1 << 20);
    }

    [Fact]
    public void Push_plan_and_assembler_deliver_each_shard_its_rows_once_when_split_into_parts()
    {
        const int dim = 64;
        var ids = Enumerable.Range(0, 3000).Select(i => (long)i).ToArray();
        var grads = new TableRows("item", dim, ids, ids.SelectMany(id => Enumerable.Repeat((float)id, dim)).ToArray());
        var counts = ids.Select(id => (int)(id % 5) + 1).ToArray();
        var pushes = PushPlan.Build([grads], [counts], Router, 128 * 1024, batchId: 77, step: 5, worker: 2, samples: 256);
        Assert.True(pushes.Count > 3);
        foreach (var shard in pushes.GroupBy(p => p.Shard))
        {
            var assembler = new PushAssembler();
            var parts = shard.Select(p => p.Push).Reverse().ToList();
            (TableRows[] Rows, int[][] Counts)? whole = null;
            foreach (var part in parts)
            {
                Assert.Null(whole);
                whole = assembler.Add(part);
            }
            var rows = Assert.Single(whole!.Value.Rows);
            Assert.Equal(rows.Ids.Select(id => (int)(id % 5) + 1), Assert.Single(whole.Value.Counts));
            Assert.Equal(ids.Where(id => ShardOf("item", id) == shard.Key).Order(), rows.Ids.Order());
            for (var r = 0; r < rows.Ids.Length; r++) Assert.Equal((float)rows.Ids[r], rows.Row(r)[dim - 1]);
            Assert.Equal(0, assembler.Open);
        }
    }
}
