using Akka.Actor;
using Akka.Cluster;

namespace DinCluster.Cluster.Hosting;

/// <summary>
/// The coordinator's end of a multi-process job: asks every other member to leave
/// (<c>Cluster.Leave</c> works for any member, from any node) and completes once they are all
/// removed. The nodes then exit while the coordinator still leads the cluster, and the coordinator
/// leaves last, so no node sees its leader vanish mid-gossip.
/// </summary>
internal static class NodeDismissal
{
    /// <summary>Dismisses every other member; returns how many were still members after <paramref name="timeout"/>.</summary>
    public static async Task<int> Run(ActorSystem system, TimeSpan timeout)
    {
        if (system.WhenTerminated.IsCompleted) return 0;
        var cluster = Akka.Cluster.Cluster.Get(system);
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var actor = system.ActorOf(Props.Create(() => new DismissalActor(done)), "dismissal");
        try
        {
            var finished = await Task.WhenAny(done.Task, Task.Delay(timeout), system.WhenTerminated);
            // Terminated meanwhile (a signal): the nodes follow through their CoordinatorWatch.
            if (finished != done.Task && !system.WhenTerminated.IsCompleted)
                return cluster.State.Members.Count(m => !m.UniqueAddress.Equals(cluster.SelfUniqueAddress));
            return 0;
        }
        finally
        {
            system.Stop(actor);
        }
    }

    private sealed class DismissalActor : ReceiveActor
    {
        private readonly Akka.Cluster.Cluster _cluster = Akka.Cluster.Cluster.Get(Context.System);
        private readonly HashSet<UniqueAddress> _pending = [];
        private readonly TaskCompletionSource _done;

        public DismissalActor(TaskCompletionSource done)
        {
            _done = done;
            Receive<ClusterEvent.CurrentClusterState>(state =>
            {
                foreach (var m in state.Members.Where(m => !m.UniqueAddress.Equals(_cluster.SelfUniqueAddress)))
                {
                    _pending.Add(m.UniqueAddress);
                    if (m.Status is MemberStatus.Joining or MemberStatus.WeaklyUp or MemberStatus.Up) _cluster.Leave(m.Address);
                }
                Check();
            });
            Receive<ClusterEvent.MemberRemoved>(m =>
            {
                _pending.Remove(m.Member.UniqueAddress);
                Check();
            });
            Receive<ClusterEvent.IMemberEvent>(_ => { });
        }

        protected override void PreStart() =>
            _cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsSnapshot, typeof(ClusterEvent.IMemberEvent));

        protected override void PostStop() => _cluster.Unsubscribe(Self);

        private void Check()
        {
            if (_pending.Count == 0) _done.TrySetResult();
        }
    }
}
