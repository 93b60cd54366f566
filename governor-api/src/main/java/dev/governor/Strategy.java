package dev.governor;

/**
 * What a supervisor restarts when one of its children ends and that child's policy asks for a
 * restart. The names and meaning are Erlang/OTP's.
 */
public enum Strategy {
    /** Only the child that ended is restarted. */
    ONE_FOR_ONE,
    /**
     * Every sibling is stopped, in reverse start order, then all are started again in start order.
     * Temporary children ({@link RestartPolicy#never()}) are stopped and not started again.
     */
    ONE_FOR_ALL,
    /**
     * The siblings started after the child that ended are stopped in reverse order, then the child
     * and those siblings are started again in order. Temporary children are not started again.
     */
    REST_FOR_ONE
}
