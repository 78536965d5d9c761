// Blind A/B tournaments with Bradley–Terry ratings: its desk.
export { TournamentDesk } from './tournament.svelte';
