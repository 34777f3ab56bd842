export default function VideoPlayer() { return <p>VideoPlayer is on its way.</p>; }
