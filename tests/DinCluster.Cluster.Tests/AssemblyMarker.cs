namespace DinCluster.Cluster.Tests;
internal static class AssemblyMarker { }
