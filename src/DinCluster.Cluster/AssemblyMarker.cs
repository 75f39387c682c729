namespace DinCluster.Cluster;
internal static class AssemblyMarker { }
