namespace DinCluster.Cluster.Protocol;

/// <summary>
/// `dincluster status` asks a node's /user/status actor how it sees the cluster; any node answers.
/// </summary>
public sealed record GetClusterStatus : IDinMessage
{
    public static readonly GetClusterStatus Instance = new();
}

/// <summary>One member as the answering node sees it.</summary>
/// <param name="Address">host:port.</param>
/// <param name="Roles">Its roles joined by ','.</param>
/// <param name="Status">Akka member status, lower case (joining, up, leaving, exiting, down, removed).</param>
/// <param name="Reachable">False when the answering node's failure detector marks it unreachable.</param>
public sealed record MemberView(string Address, string Roles, string Status, bool Reachable);

/// <summary>Reply to <see cref="GetClusterStatus"/>: the answering node, the leader ("" = none) and the members.</summary>
public sealed record ClusterStatus(string Node, string Leader, MemberView[] Members) : IDinMessage;

/// <summary>Asks the coordinator singleton (through a node's coordinator proxy) for the job's progress.</summary>
public sealed record GetJobProgress : IDinMessage
{
    public static readonly GetJobProgress Instance = new();
}

/// <summary>
/// The job as the coordinator sees it. <paramref name="State"/>: forming, assigning, training,
/// evaluating, checkpointing, completed or failed. Loss and AUC are NaN until known.
/// </summary>
public sealed record JobProgress(
    string State,
    int Epoch,
    int Epochs,
    long Steps,
    long Samples,
    long EpochSamples,
    long EpochSamplesExpected,
    double LastLoss,
    double LastTestAuc,
    int Workers,
    double Seconds) : IDinMessage;
